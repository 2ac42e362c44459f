# A JoinHandle keeps its task's identity and outcome in two fields (task id / minus it once
# finished, and the slot / the outcome), so a spawn that hands one out costs what an asyncio
# Task does: an object of two fields (64 B on the unix port; was 128 B with six fields). Every
# outcome survives the packing, and a detached or stale handle still never acts on a later task.
from shimeji import Cancelled, StaleHandle, StaticScheduler, yield_now
from support import alloc_delta, micropython_only, raises


async def returns(v):
    return v


async def fails():
    raise ValueError("boom")


async def waits():
    while True:
        await yield_now()


def test_every_outcome_survives_in_two_fields():
    s = StaticScheduler(4)
    err = KeyError("a value, not a failure")
    ok = s.spawn(returns(7), "seven")
    exc_value = s.spawn(returns(err))
    failed = s.spawn(fails())
    cancelled = s.spawn(waits())
    s.tick()
    cancelled.cancel()
    s.tick()
    assert (ok.id, ok.name, ok.is_complete(), ok.result()) == (1, "seven", True, 7)
    assert exc_value.result() is err and exc_value.name is None  # returned, not raised
    assert not exc_value.is_cancelled()
    with raises(ValueError, "boom"):
        failed.result()
    assert failed.is_complete() and not failed.is_cancelled()
    assert cancelled.is_cancelled() and cancelled.id == 4
    with raises(Cancelled):
        cancelled.result()
    assert repr(ok) == "<JoinHandle id=1 name='seven' ok>"
    assert repr(failed) == "<JoinHandle id=3 name=None failed>"
    got = []

    async def joiner():
        for h in (ok, exc_value, failed, cancelled):
            try:
                got.append(await h)  # each finished before this await
            except ValueError as e:
                got.append(type(e).__name__)
            except Cancelled:
                got.append("Cancelled")

    s.run_until_complete(joiner())
    assert got == [7, err, "ValueError", "Cancelled"]


def test_a_handle_detached_while_its_task_runs_stays_stale_after_the_task_ends():
    s = StaticScheduler(1)
    h = s.spawn(returns(1), "first")
    h.detach()
    s.tick()  # the task ends: its outcome does not revive the handle
    for use in (h.result, h.cancel, h.is_complete, h.is_cancelled):
        with raises(StaleHandle, "was detached"):
            use()
    assert repr(h) == "<JoinHandle id=1 name='first' detached>"
    nxt = s.spawn(returns(2))  # the same slot: a new handle, unnamed
    assert nxt is not h and nxt.name is None and h.id == 1
    s.tick()
    assert nxt.result() == 2
    with raises(StaleHandle):
        h.result()


def test_a_reused_handle_forgets_the_previous_tasks_name():
    s = StaticScheduler(1)
    s.spawn_detached(returns(1), "named")
    s.tick()
    h = s.spawn(returns(2))  # the slot reuses the handle nobody was given
    assert (h.id, h.name) == (2, None)
    s.tick()
    assert h.result() == 2


class _TwoFields:
    def __init__(self):
        self.a = None
        self.b = 0


class _ThreeFields:
    def __init__(self):
        self.a = None
        self.b = 0
        self.c = None


@micropython_only
def test_a_spawn_that_hands_out_a_handle_costs_one_object_of_two_fields():
    s = StaticScheduler(2)
    for _ in range(4):  # every slot's handle handed out: each spawn makes a new one
        s.spawn(returns(None))
        s.tick()
    two = alloc_delta(_TwoFields)
    three = alloc_delta(_ThreeFields)
    coro = returns(None)
    spawn = alloc_delta(s.spawn, coro)
    s.tick()
    coro = returns(None)
    named = alloc_delta(s.spawn, coro, "named")  # a name is a third field
    s.tick()
    assert 0 < spawn <= two < three, (spawn, two, three)
    assert named <= three, (named, three)


def test_detaching_a_running_task_gives_its_slot_a_handle_of_its_own():
    # The in-line completion writes the slot's handle without asking whether it was
    # detached: detach() of a running task's handle hands the slot a new one first.
    from shimeji import current_task

    s = StaticScheduler(2)
    seen = []

    async def task():
        await yield_now()
        me = current_task()
        seen.append((me is h, me.id == h.id, me.is_complete()))
        return None

    h = s.spawn(task(), "t")
    s.tick(1)  # to its first await
    h.detach()
    s.tick()
    assert seen == [(False, True, False)]
    for use in (h.result, h.cancel, h.is_complete):
        with raises(StaleHandle, "detached"):
            use()
    assert s.live_count() == 0 and s.free_count() == 2
    h2 = s.spawn(returns(5))  # the slots' handles: every later task gets its own
    s.tick()
    assert h2.result() == 5 and h2.id == h.id + 1


def test_a_handle_never_given_a_task_is_not_complete_and_cannot_be_awaited():
    from shimeji import JoinHandle, TaskNotComplete

    s = StaticScheduler(2)
    bare = JoinHandle()
    got = []

    async def joiner():
        try:
            await bare
        except TaskNotComplete as e:
            got.append("never given a task" in str(e))

    assert not bare.is_complete() and "unused" in repr(bare)
    s.spawn_detached(joiner())
    s.tick()
    assert got == [True]
