# What a task's spawns allocate while the FIFO tick polls it (split from
# test_sched_spawn_local.py): a detached spawn nothing beyond the coroutine's StopIteration (its
# slot's handle is reused), a joined one a handle of at most 64 B, and the first detached spawn
# into a fresh slot nothing (the slot's handle has its fields from the start).
from shimeji import StaticScheduler, yield_now
from support import alloc_delta, micropython_only, needs_native_shimeji


async def trivial():
    return None


def _stop_iteration_bytes():
    # On MicroPython a send() that ends a coroutine makes a StopIteration (the same for any
    # runtime that drives coroutines with send); spawn, tick and join are measured beyond it.
    return alloc_delta(StopIteration)


@micropython_only
@needs_native_shimeji
def test_spawning_detached_from_a_task_allocates_nothing():
    import micropython

    s = StaticScheduler(48)  # 42 tasks at most: a driver and 41 (64 slots, ~45 KB, left the
    # STM32L475 test image out of heap in a full make test-firmware run)
    done = [0]

    async def detached_round(coros):
        for i in range(len(coros)):  # (a for over the list would make an iterator)
            s.spawn_detached(coros[i])
        await yield_now()
        done[0] += len(coros)

    def drive(coros):
        s.spawn_detached(detached_round(coros))
        while s.tick().polled:
            pass

    for _ in range(3):  # warm every slot: its handle's fields exist
        drive([trivial() for _ in range(40)])
    coros = [trivial() for _ in range(40)]
    main = detached_round(coros)
    micropython.heap_lock()
    try:
        s.spawn_detached(main)
        while s.tick().polled:
            pass
    finally:
        micropython.heap_unlock()
    one = alloc_delta(drive, [trivial() for _ in range(1)])
    many = alloc_delta(drive, [trivial() for _ in range(41)])
    assert many - one == 40 * _stop_iteration_bytes(), (one, many)  # nothing more
    assert done == [40 * 4 + 42] and s.live_count() == 0 and s.failed_total == 0


@micropython_only
def test_a_joined_spawn_from_a_task_makes_one_handle_of_at_most_64_bytes():
    s = StaticScheduler(64)

    async def joined_round(coros, hs):
        for i in range(len(coros)):
            hs[i] = s.spawn(coros[i])
        for i in range(len(hs)):
            await hs[i]

    def drive(coros, hs):
        s.spawn_detached(joined_round(coros, hs))
        while s.tick().polled:
            pass

    for _ in range(3):
        drive([trivial() for _ in range(40)], [None] * 40)
    one = alloc_delta(drive, [trivial() for _ in range(1)], [None])
    many = alloc_delta(drive, [trivial() for _ in range(41)], [None] * 41)
    handle = (many - one) / 40 - _stop_iteration_bytes()
    assert 0 < handle <= 64, (one, many)  # one handle of two fields per spawn, no more
    assert s.live_count() == 0 and s.failed_total == 0


@micropython_only
def test_the_first_detached_spawn_into_a_fresh_slot_allocates_nothing():
    s = StaticScheduler(2)
    coros = [trivial(), trivial()]
    assert alloc_delta(s.spawn_detached, coros[0]) == 0  # the slot's handle has its fields
    assert alloc_delta(s.spawn_detached, coros[1]) == 0
    assert s.tick().completed == 2


def test_a_detached_spawn_from_a_task_reuses_the_slot_handle_with_no_old_name():
    # (the handle's id and slot are written when it is handed out: sched/detached.py)
    s = StaticScheduler(2)
    slot = s.slots[1]  # the children's (the parent takes slot 0)
    seen = []

    async def child():
        pass

    async def parent():
        first = None
        for name in ("first", None, None):  # named: _start; unnamed: spawn's in-line path
            s.spawn_detached(child(), name=name)
            h = slot.handle
            first = first or h
            seen.append((slot.id, h.name, h is first, slot.handle_out))
            await yield_now()

    s.spawn_detached(parent())
    while s.tick().has_remaining:
        pass
    assert seen == [(2, "first", True, False), (3, None, True, False), (4, None, True, False)]
