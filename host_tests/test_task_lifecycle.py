# Task system: spawn, complete, errors, the pool and its slots, handles, detached tasks, the
# caller's slots, close. Joins and cancellation: test_task_join_cancel.py; task ids:
# test_task_ids.py.
import shimeji
from shimeji import NotACoroutine, SchedulerClosed, SlotBusy, StaticScheduler, TaskSlot, yield_now
from support import raises
from taskhelp import drain, returns


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


def test_close_from_inside_a_task_is_refused():
    s = StaticScheduler(2)

    async def closer():
        s.close()

    h = s.spawn(closer())
    drain(s)
    with raises(shimeji.SchedulerBusy, "from the run loop"):
        h.result()
    assert not s.closed


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
