# Joins of tasks that return a value: join_all collects finished handles' values in its walk
# (no handle awaited), an await of a finished handle ends with its value without allocating,
# and StaticScheduler._complete of a clean slot skips what only a dirty one holds but still
# clears a throw set alone. Every outcome as before: returned exceptions and slots stay values,
# a failure raises (or takes its place with return_exceptions), a detached handle is stale.
# Both runtimes.
from shimeji import (
    Cancelled,
    StaleHandle,
    StaticScheduler,
    TaskSlot,
    join_all,
    spawn,
    yield_now,
)
from shimeji.task.words import set_throw
from support import alloc_delta, micropython_only, raises


async def give(value):
    return value


async def fail(msg):
    raise ValueError(msg)


def run_counting_wakes(s, coro):
    h = s.spawn(coro)
    woken = 0  # a joiner woken by a completion is counted by the tick
    remaining = True
    while remaining:
        t = s.tick()
        woken += t.woken
        remaining = t.has_remaining
    return h.result(), woken


def test_a_batch_of_values_is_collected_in_order_after_one_yield_with_no_await():
    s = StaticScheduler(12)
    err = ValueError("returned, not raised")
    slot = TaskSlot()
    values = [1, "two", None, err, slot, (3,), 4.5, object()]

    async def driver():
        hs = [s.spawn(give(v)) for v in values]
        got = await join_all(*hs)
        return got, [h.result() for h in hs]

    (got, results), woken = run_counting_wakes(s, driver())
    assert woken == 0  # the driver yielded once, then collected every value in one walk
    assert len(got) == len(values)
    assert all(a is b for a, b in zip(got, values))
    assert all(a is b for a, b in zip(results, values))
    assert s.free_count() == 12


def test_finished_values_are_collected_and_running_tasks_joined_as_before():
    s = StaticScheduler(8)

    async def later(value):
        await yield_now()
        await yield_now()
        return value

    async def driver():
        first = [s.spawn(give(i)) for i in range(3)]
        await yield_now()  # these finish
        hs = first + [s.spawn(later("late")), s.spawn(give("x"))]
        return await join_all(*hs)

    assert s.run_until_complete(driver()) == [0, 1, 2, "late", "x"]
    assert s.free_count() == 8


def test_a_failure_among_values_raises_or_takes_its_place():
    s = StaticScheduler(8)

    async def driver():
        hs = [s.spawn(give(1)), s.spawn(fail("boom")), s.spawn(give(3))]
        with raises(ValueError, "boom"):
            await join_all(*hs)
        got = await join_all(*hs, return_exceptions=True)
        c = s.spawn(give("never"))
        c.cancel()
        with raises(Cancelled):
            await join_all(s.spawn(give(0)), c)
        return got

    got = s.run_until_complete(driver())
    assert got[0] == 1 and got[2] == 3
    assert isinstance(got[1], ValueError) and str(got[1]) == "boom"
    assert s.free_count() == 8


def test_a_detached_handle_among_values_is_stale():
    s = StaticScheduler(6)

    async def driver():
        hs = [s.spawn(give(1)), s.spawn(give(2))]
        await yield_now()
        hs[1].detach()
        with raises(StaleHandle):
            await join_all(*hs)
        return await join_all(hs[0])

    assert s.run_until_complete(driver()) == [1]


def test_awaiting_a_finished_value_handle_gives_the_value_each_time():
    s = StaticScheduler(4)
    err = KeyError("kept")

    async def driver():
        h = s.spawn(give(7))
        e = s.spawn(give(err))
        at_once = await spawn(give("now"))  # spawn then await at once: the wake carries it
        await yield_now()
        return at_once, await h, await h, await e, h.result()

    assert s.run_until_complete(driver()) == ("now", 7, 7, err, 7)


@micropython_only
def test_an_await_of_a_finished_value_handle_allocates_nothing():
    s = StaticScheduler(4)
    got = [0]

    async def driver():
        h = s.spawn(give(12345))
        await yield_now()
        await h  # (the first await of the kind: anything made once is made here)

        async def awaits(n):
            total = 0
            for _ in range(n):
                total += await h
            return total

        def run(n):  # (the coroutine and its StopIteration: the same for any n)
            c = awaits(n)
            try:
                c.send(None)
            except StopIteration as e:
                got[0] = e.value

        run(1)
        return alloc_delta(run, 50) - alloc_delta(run, 1)

    assert s.run_until_complete(driver()) == 0
    assert got[0] == 12345


def test_a_throw_set_alone_on_a_clean_slot_is_cleared_by_its_completion():
    s = StaticScheduler(2)
    h = s.spawn(give(1))  # queued, never polled: a clean slot
    slot = h._ref
    assert not slot.dirty
    set_throw(slot, Cancelled("set alone, as a timeout's expiry sets it"))
    s.close()  # completes it (cancelled) through StaticScheduler._complete
    assert slot.throw_exc is None and slot.w[1] == 0 and not slot.cancel_requested
    assert slot.coro is None
    with raises(Cancelled):
        h.result()


def test_a_clean_value_completion_leaves_the_slot_ready_for_the_next_task():
    s = StaticScheduler(2)
    for i in range(5):
        h = s.spawn(give(i))
        while s.tick().has_remaining:
            pass
        assert h.result() == i
        assert s.free_count() == 2
    named = s.build_task().name("n").spawn(give("named"))
    assert s.run_until_complete(give("last")) == "last"
    assert named.result() == "named" and named.name == "n"
    assert s.free_count() == 2
