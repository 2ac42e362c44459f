# Hot paths of the task system allocate nothing: proved with heap_lock AND a zero
# gc.mem_alloc() delta (heap_lock alone is fooled by the emergency exception object).
from gate import Gate
from shimeji import StaticScheduler, TaskSlot, yield_now
from support import alloc_delta, heap_locked, micropython_only


async def spinner():
    while True:
        await yield_now()


def _ticks(s, n):
    for _ in range(n):
        s.tick()


@micropython_only
def test_steady_state_tick_allocates_nothing():
    s = StaticScheduler(32)
    for _ in range(32):
        s.spawn(spinner())
    s.tick()
    heap_locked(_ticks, s, 50)
    assert alloc_delta(_ticks, s, 50) == 0
    assert s.tick().polled == 32 * 8  # default tick size 256: every task polled 8 times


def _wake_all_and_tick(gates, s):
    for g in gates:
        g.open()
    s.tick()


@micropython_only
def test_wake_and_park_allocate_nothing():
    s = StaticScheduler(16)
    gates = [Gate() for _ in range(16)]

    async def waiter(g):
        while True:
            await g

    for g in gates:
        s.spawn(waiter(g))
    s.tick()
    # The first round too: on a 32-bit board each awaitable's first raise once allocated a
    # traceback buffer (16 B), which heap_lock hides (the emergency buffer stands in).
    assert alloc_delta(_wake_all_and_tick, gates, s) == 0
    heap_locked(_wake_all_and_tick, gates, s)
    assert alloc_delta(_wake_all_and_tick, gates, s) == 0
    t = s.tick()
    assert t.polled == 0
    _wake_all_and_tick(gates, s)
    assert s._tick.polled == 16 and s._tick.woken_external == 16


def _wake_slot(s, slot):
    s.wake(slot)


@micropython_only
def test_isr_wake_entry_allocates_nothing():
    s = StaticScheduler(2)
    g = Gate()

    async def waiter():
        while True:
            await g

    h = s.spawn(waiter())
    s.tick()
    slot = h._live_slot()
    heap_locked(_wake_slot, s, slot)
    assert alloc_delta(_wake_slot, s, slot) == 0  # already queued: the idempotent path
    s.tick()
    assert alloc_delta(_wake_slot, s, slot) == 0  # waiting: the linking path


async def quick():
    return None


def _spawn_detached_and_run(s, coro):
    s.spawn_detached(coro)
    s.tick()


def _spawn_allocated_and_run(s, slot, coro):
    s.spawn_allocated(slot, coro, None, True)
    s.tick()


@micropython_only
def test_spawn_into_recycled_slot_allocates_nothing_beyond_the_coroutine():
    s = StaticScheduler(4)
    for _ in range(4):
        _spawn_detached_and_run(s, quick())
    coro = quick()
    # Completing a task raises StopIteration inside send(): that one object is the task's
    # completion cost (asyncio pays it too). Spawning itself must add nothing: measure spawn
    # alone, then the whole spawn+run.
    assert alloc_delta(s.spawn_detached, coro) == 0
    s.tick()
    slot = TaskSlot()
    _spawn_allocated_and_run(s, slot, quick())
    coro = quick()
    assert alloc_delta(s.spawn_allocated, slot, coro, None, True) == 0
    s.tick()
    # A spawn that hands out a handle makes the slot a new one next time (one small object).
    for _ in range(4):
        s.spawn(quick())
    s.tick()
    coro = quick()
    assert 0 < alloc_delta(s.spawn, coro) <= 128
    s.tick()


def _allocate(n):
    return [0] * n


@micropython_only
def test_the_measuring_tools_do_see_allocations():
    assert alloc_delta(_allocate, 64) >= 64 * 4
    try:
        heap_locked(_allocate, 64)
    except MemoryError:
        pass
    else:
        raise AssertionError("heap_locked let an allocation through")
