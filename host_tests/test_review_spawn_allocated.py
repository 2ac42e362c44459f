# Review: spawn_allocated and the pool's own slots.
from shimeji import NotACoroutine, SchedulerClosed, SlotBusy, StaticScheduler, TaskSlot, yield_now
from support import raises


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
