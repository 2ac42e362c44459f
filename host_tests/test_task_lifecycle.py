# Task system: spawn, complete, errors, cancellation, handles, slots, ids.
import shimeji
from shimeji import (
    Cancelled,
    NotACoroutine,
    SchedulerClosed,
    SlotBusy,
    StaticScheduler,
    TaskSlot,
    current_task,
    yield_now,
)
from support import raises


def drain(s, limit=1000):
    for _ in range(limit):
        if not s.tick().has_remaining:
            return
    raise AssertionError("scheduler did not go idle")


async def returns(value, yields=0, log=None, tag=None):
    for i in range(yields):
        if log is not None:
            log.append((tag, i))
        await yield_now()
    return value


def test_spawn_returns_handle_with_id_and_name():
    s = StaticScheduler(4)
    h = s.spawn(returns(1), "first")
    h2 = s.spawn(returns(2))
    assert (h.id, h.name, h2.name) == (1, "first", None)
    assert h2.id > h.id
    assert not h.is_complete()
    drain(s)
    assert (h.is_complete(), h.result(), h2.result()) == (True, 1, 2)


def test_tasks_interleave_in_fifo_order():
    s = StaticScheduler(4)
    log = []
    s.spawn(returns(None, 3, log, "a"))
    s.spawn(returns(None, 3, log, "b"))
    drain(s)
    assert log == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]


def test_failing_task_is_contained_and_counted():
    s = StaticScheduler(4)
    log = []

    async def bad():
        await yield_now()
        raise ValueError("sensor gone")

    h_bad = s.spawn(bad())
    h_ok = s.spawn(returns("fine", 3, log, "ok"))
    drain(s)
    assert h_ok.result() == "fine"
    assert log == [("ok", 0), ("ok", 1), ("ok", 2)]
    with raises(ValueError, "sensor gone"):
        h_bad.result()
    assert s.failed_total == 1
    assert s.live_count() == 0


def test_result_before_completion_is_a_clear_error():
    s = StaticScheduler(2)
    h = s.spawn(returns(1, 2))
    with raises(shimeji.TaskNotComplete, "await its handle") as r:
        h.result()
    assert isinstance(r.value, shimeji.ShimejiError)
    drain(s)
    assert h.result() == 1


def test_pool_full_leaves_scheduler_untouched():
    s = StaticScheduler(2)
    a = s.spawn(returns("a", 1))
    b = s.spawn(returns("b", 1))
    extra = returns("c")
    with raises(shimeji.PoolFull, "all 2 task slots") as r:
        s.spawn(extra)
    assert isinstance(r.value, shimeji.ShimejiError)
    extra.close()
    assert s.live_count() == 2
    drain(s)
    assert (a.result(), b.result()) == ("a", "b")
    c = s.spawn(returns("c"))
    drain(s)
    assert c.result() == "c"


def test_finished_slot_is_reused_and_ids_keep_increasing():
    s = StaticScheduler(1)
    ids = []
    for i in range(5):
        h = s.spawn(returns(i))
        ids.append(h.id)
        drain(s)
        assert h.result() == i
        h.detach()
    assert ids == [1, 2, 3, 4, 5]
    assert s.free_count() == 1


def test_an_awaited_handle_never_acts_on_the_next_task_in_its_slot():
    s = StaticScheduler(2)  # the joiner in one slot, the workers one after another in the other
    log = []

    async def main():
        h = s.spawn(returns("one"))
        log.append(await h)
        other = s.spawn(returns("two", 3))  # the same slot as h's task
        assert other is not h
        log.append(h.result())  # still the first task's outcome
        log.append(h.cancel())  # the first task is over: nothing to cancel
        log.append(await h)  # awaiting again gives the same outcome
        log.append((h.is_complete(), h.is_cancelled(), h.id != other.id))
        log.append(await other)  # the second task was not touched
        return "done"

    assert s.run_until_complete(main()) == "done"
    assert log == ["one", "one", False, "one", (True, False, True), "two"]


def test_a_detached_handle_raises_stale_handle_on_every_use():
    s = StaticScheduler(1)
    h = s.spawn(returns("one"))
    assert h.detach() is None
    drain(s)
    nxt = s.spawn(returns("two", 2))
    assert nxt is not h
    for use in (h.result, h.cancel, h.is_complete, h.is_cancelled):
        with raises(shimeji.StaleHandle, "was detached") as r:
            use()
        assert isinstance(r.value, shimeji.ShimejiError)
    log = []

    async def awaits_stale():
        try:
            await h
        except shimeji.StaleHandle:
            log.append("stale")

    s2 = StaticScheduler(1)
    s2.run_until_complete(awaits_stale())
    drain(s)
    assert log == ["stale"] and nxt.result() == "two"  # the live task ran untouched


def test_spawn_detached_returns_nothing_and_reuses_the_slots_handle():
    s = StaticScheduler(1)
    assert s.spawn_detached(returns("a"), "bg") is None
    internal = s.slots[0].handle
    drain(s)
    assert s.spawn_detached(returns("b")) is None
    assert s.slots[0].handle is internal  # never handed out: reused
    drain(s)
    h = s.spawn(returns("c"))  # handed out now
    assert h is internal
    drain(s)
    s.spawn_detached(returns("d"))
    assert s.slots[0].handle is not h  # h is the caller's for good
    drain(s)
    assert h.result() == "c"
    slot = TaskSlot()
    assert s.spawn_allocated(slot, returns("e"), detached=True) is None
    drain(s)
    assert s.completed_total == 5


def test_a_subclass_keeps_its_own_spawn_and_spawn_detached():
    # The scheduler binds spawn and spawn_detached on the instance (a hit in its attribute
    # table instead of a miss there and two class lookups): the bound ones are the subclass's.
    calls = []

    class Logged(StaticScheduler):
        def spawn(self, coro, name=None):
            calls.append(("spawn", name))
            return StaticScheduler.spawn(self, coro, name)

        def spawn_detached(self, coro, name=None):
            calls.append(("detached", name))
            return StaticScheduler.spawn_detached(self, coro, name)

    s = Logged(2)
    h = s.spawn(returns(1), "a")
    assert s.spawn_detached(returns(2), "b") is None
    drain(s)
    assert calls == [("spawn", "a"), ("detached", "b"), ("spawn", "b")]
    assert (h.result(), s.completed_total, s.live_count()) == (1, 2, 0)


def test_ids_wrap_and_skip_live_ids():
    s = StaticScheduler(3)
    s.spawned_total = (1 << 30) - 2  # as if a long time had passed
    s._next_id = (1 << 30) - 2
    a = s.spawn(returns(1, 5))  # id 2**30-2, still live when ids wrap
    b = s.spawn(returns(2))
    c = s.spawn(returns(3))
    assert (b.id, c.id) == ((1 << 30) - 1, 1)
    drain(s)
    assert a.result() == 1
    for h in (a, b, c):
        assert 0 < h.id < (1 << 30)


def test_cancel_waiting_task_raises_cancelled_inside_it():
    s = StaticScheduler(2)
    log = []

    async def worker():
        try:
            for i in range(100):
                log.append(i)
                await yield_now()
        except Cancelled:
            log.append("cancelled")
            raise
        finally:
            log.append("cleanup")

    h = s.spawn(worker())
    s.tick(2)
    assert h.cancel() is True
    assert h.cancel() is False  # already pending
    drain(s)
    assert log == [0, 1, "cancelled", "cleanup"]
    assert h.is_cancelled()
    with raises(Cancelled):
        h.result()
    assert h.cancel() is False  # finished


def test_cancel_before_first_poll():
    s = StaticScheduler(2)
    log = []

    async def never():
        log.append("ran")

    h = s.spawn(never())
    assert h.cancel()
    drain(s)
    assert log == []
    assert h.is_cancelled()


def test_task_that_swallows_cancel_keeps_running():
    s = StaticScheduler(2)

    async def stubborn():
        try:
            await yield_now()
        except Cancelled:
            pass
        return "still here"

    h = s.spawn(stubborn())
    s.tick(1)
    h.cancel()
    drain(s)
    assert h.result() == "still here"


def test_join_from_another_task():
    s = StaticScheduler(4)
    log = []

    async def child():
        await yield_now()
        log.append("child done")
        return 42

    async def parent():
        h = s.spawn(child())
        log.append("parent waits")
        v = await h
        log.append(("parent got", v))
        return v

    assert s.run_until_complete(parent()) == 42
    assert log == ["parent waits", "child done", ("parent got", 42)]


def test_join_reraises_child_error_and_cancellation():
    s = StaticScheduler(4)

    async def bad():
        raise KeyError("k")

    async def sleeper():
        while True:
            await yield_now()

    async def parent():
        out = []
        try:
            await s.spawn(bad())
        except KeyError:
            out.append("keyerror")
        h = s.spawn(sleeper())
        await yield_now()
        h.cancel()
        try:
            await h
        except Cancelled:
            out.append("cancelled")
        return out

    assert s.run_until_complete(parent()) == ["keyerror", "cancelled"]


def test_many_joiners_all_get_the_result():
    s = StaticScheduler(8)
    got = []

    async def child():
        for _ in range(3):
            await yield_now()
        return "r"

    h = s.spawn(child())

    async def joiner(i):
        got.append((i, await h))

    for i in range(4):
        s.spawn(joiner(i))
    drain(s)
    assert got == [(0, "r"), (1, "r"), (2, "r"), (3, "r")]


def test_awaiting_a_finished_handle_returns_at_once():
    s = StaticScheduler(4)
    h = s.spawn(returns(5))
    drain(s)

    async def late():
        return await h

    assert s.run_until_complete(late()) == 5


def test_cancelling_a_joiner_leaves_the_join_list():
    s = StaticScheduler(4)

    async def child():
        for _ in range(5):
            await yield_now()
        return 1

    child_h = s.spawn(child())

    async def joiner():
        return await child_h

    j = s.spawn(joiner())
    s.tick(2)
    assert child_h._live_slot().joiners.count == 1
    j.cancel()
    assert child_h._live_slot().joiners.count == 0  # at once, not at the next poll
    drain(s)
    assert j.is_cancelled() and child_h.result() == 1


def test_awaiting_own_handle_is_an_error():
    s = StaticScheduler(2)

    async def selfish():
        await current_task()

    h = s.spawn(selfish())
    drain(s)
    with raises(shimeji.JoinSelf, "its own JoinHandle"):
        h.result()


def test_current_task_inside_and_outside():
    s = StaticScheduler(2)

    async def who():
        return current_task().name

    h = s.build_task().name("me").spawn(who())
    drain(s)
    assert h.result() == "me"
    with raises(shimeji.NoCurrentTask, "from inside a task"):
        current_task()


def test_spawn_rejects_non_coroutines_clearly():
    s = StaticScheduler(2)

    async def job():
        return 1

    with raises(shimeji.NotACoroutine, "spawn(job()) not spawn(job)"):
        s.spawn(job)
    with raises(shimeji.NotACoroutine, "coroutine object"):
        s.spawn(42)
    assert s.live_count() == 0
    h = s.spawn(job())
    drain(s)
    assert h.result() == 1


def test_spawn_allocated_uses_caller_slot():
    s = StaticScheduler(1)
    slot = TaskSlot()
    h = s.spawn_allocated(slot, returns("mine", 1), "own")
    assert h is slot.handle and h.name == "own"
    pool_h = s.spawn(returns("pool"))  # the pool slot is still free
    rejected = returns(0)
    with raises(shimeji.SlotBusy, "live task"):
        s.spawn_allocated(slot, rejected)
    drain(s)
    assert (h.result(), pool_h.result()) == ("mine", "pool")
    h2 = s.spawn_allocated(slot, returns("again"))
    assert h2 is not h and h.result() == "mine"  # a handed-out handle is never reused
    drain(s)
    assert h2.result() == "again"
    other = StaticScheduler(1)
    with raises(shimeji.SlotBusy, "another scheduler"):
        other.spawn_allocated(slot, rejected)
    with raises(shimeji.SlotBusy, "another scheduler"):
        other.spawn_allocated(s.slots[0], rejected)
    rejected.close()  # a rejected coroutine stays the caller's


def test_builder_with_slot():
    s = StaticScheduler(1)
    slot = TaskSlot()
    h = s.build_task().name("b").slot(slot).spawn(returns(3))
    assert h is slot.handle
    drain(s)
    assert h.result() == 3


def test_close_cancels_live_tasks_and_refuses_spawns():
    s = StaticScheduler(2)
    log = []

    async def forever():
        try:
            while True:
                await yield_now()
        finally:
            log.append("finally")

    h = s.spawn(forever())
    own = s.spawn_allocated(TaskSlot(), forever())
    s.tick(4)
    s.close()
    assert log == ["finally", "finally"]
    assert h.is_cancelled() and own.is_cancelled()
    coro = returns(1)
    with raises(shimeji.SchedulerClosed, "make a new StaticScheduler"):
        s.spawn(coro)
    coro.close()
    assert s.live_count() == 0


def test_foreign_awaitable_gets_clear_error():
    s = StaticScheduler(2)

    class Weird:
        def __iter__(self):
            return self

        __await__ = __iter__

        def __next__(self):
            return "not a shimeji marker"

    async def confused():
        await Weird()

    h = s.spawn(confused())
    other = s.spawn(returns("unaffected", 2))
    drain(s)
    with raises(shimeji.ForeignAwaitable, "not a shimeji awaitable"):
        h.result()
    assert other.result() == "unaffected"


def test_cancel_takes_a_queued_waiter_off_its_list_at_once():
    s = StaticScheduler(4)

    async def child():
        for _ in range(5):
            await yield_now()

    child_h = s.spawn(child())

    async def joiner():
        await child_h

    j = s.spawn(joiner())
    s.tick(2)
    shimeji.wake(j._live_slot())  # a spurious wake: queued, but still on the joiners list
    assert child_h._live_slot().joiners.count == 1
    j.cancel()
    assert child_h._live_slot().joiners.count == 0
    drain(s)
    assert j.is_cancelled()


def test_close_from_inside_a_task_is_refused():
    s = StaticScheduler(2)

    async def closer():
        s.close()

    h = s.spawn(closer())
    drain(s)
    with raises(shimeji.SchedulerBusy, "from the run loop"):
        h.result()
    assert not s.closed


def test_ids_after_the_wrap_skip_live_ids_and_counters_stay_small():
    from gate import Gate

    s = StaticScheduler(4)
    mask = (1 << 30) - 1
    gate = Gate()

    async def long_lived():
        await gate

    s._next_id = mask - 1
    old = s.spawn(long_lived())  # id 2**30-2, still live when the ids come round
    last = s.spawn(returns(0))  # id 2**30-1, the last id
    first = s.spawn(returns(1))  # the ids wrap: 1
    assert (old.id, last.id, first.id, s.ids_wrapped) == (mask - 1, mask, 1, True)
    drain(s)
    s._next_id = mask - 1  # the ids come round to the live task's id again
    h = s.spawn(returns(2))
    assert h.id == mask  # 2**30-2 was skipped: "old" still has it
    s.spawned_total = mask - 1  # counted at a tick's end: h and the next spawn are still due
    s.completed_total = mask - 1
    s.failed_total = mask
    s.spawn(returns(3)).detach()
    assert s.spawned_total == mask - 1
    gate.open()
    drain(s)  # two spawns wrap spawned_total to 0; three completions 2**30-2 + 3 to 1
    assert (s.spawned_total, s.completed_total) == (0, 1)
    assert old.is_complete() and h.result() == 2


def test_wrap_count_never_passes_the_small_int_range():
    from shimeji.task.pool import wrap_count

    mask = (1 << 30) - 1
    assert wrap_count(mask, 1) == 0
    assert wrap_count(mask - 1, 1) == mask
    assert wrap_count(mask - 5, 10) == 4
    assert wrap_count(3, 10) == 13


# spawn_allocated and the pool's own slots.
def test_spawn_allocated_refuses_a_free_pool_slot():
    # A free pool slot is still on the free list: running a task in it through
    # spawn_allocated would let the next spawn() take the same slot over the live task.
    s = StaticScheduler(2)
    log = []

    async def t(tag):
        log.append(tag)
        await yield_now()
        log.append(tag + "!")

    slot = s.slots[0]
    coro = t("a")
    with raises(SlotBusy):
        s.spawn_allocated(slot, coro)
    coro.close()  # still the caller's
    assert s.free_count() == 2
    h1 = s.spawn(t("b"))
    h2 = s.spawn(t("c"))
    own = TaskSlot()
    h3 = s.spawn_allocated(own, t("d"))
    while s.tick().has_remaining:
        pass
    assert log == ["b", "c", "d", "b!", "c!", "d!"]
    assert h1.is_complete() and h2.is_complete() and h3.is_complete()
    assert s.free_count() == 2


def test_a_refused_spawn_allocated_leaves_the_slot_unclaimed():
    # A spawn refused for its coroutine (or a closed scheduler) must not tie the caller's
    # slot to that scheduler: the slot still works on another one.
    async def t():
        return 1

    closed = StaticScheduler(1)
    closed.close()
    slot = TaskSlot()
    coro = t()
    with raises(SchedulerClosed):
        closed.spawn_allocated(slot, coro)
    with raises(NotACoroutine):
        StaticScheduler(1).spawn_allocated(slot, t)
    other = StaticScheduler(1)
    h = other.spawn_allocated(slot, coro)
    other.tick()
    assert h.result() == 1
    assert [sl.id for sl in other.live_slots()] == []


def test_a_bad_capacity_is_a_shimeji_error():
    from shimeji import InvalidCapacity, ShimejiError

    for bad in (0, -1, "4", None):
        with raises(ShimejiError, "capacity"):
            StaticScheduler(bad)
    assert issubclass(InvalidCapacity, ShimejiError)
