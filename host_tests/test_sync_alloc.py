# Wait and wake paths of every primitive allocate nothing: each steady-state cycle runs under
# heap_lock AND with a zero gc.mem_alloc() delta. Then the same cycles run with a fake
# `machine` whose disable_irq locks the heap, so any allocation inside a critical section
# fails the test even where the rest of the code may allocate.
import sys

from shimeji import (
    Channel,
    Event,
    IrqCriticalSection,
    Mutex,
    RwLock,
    Semaphore,
    StaticScheduler,
    WaitCell,
    WaitMap,
    WaitQueue,
    yield_now,
)
from support import alloc_delta, heap_locked, micropython_only, thread_section
from synchelp import HeapLockingMachine

# The most tasks a cycle's tick polls: tick()'s default (256) on a host, 24 on a board (each
# task of the largest cycle, twice). The lock and channel cycles' tasks never stop (each
# round ends in yield_now), so every tick polls its whole budget: at 256 the lock cycle's 20
# ticks were 5,120 polls, ~2.7 s of emulated time on the RP2040 in rp2040js, and the module
# (this test and the critical-section test run every cycle 3 and 5 times) took 681 s there
# alone (session 13) and did not finish within fwtest's 300 s (session 14). The paths are
# the same at 24: each tick still ends on its budget with tasks runnable, and the locks,
# semaphores and channels still hand off between tasks from one tick to the next.
POLLS = 256 if sys.platform in ("linux", "darwin", "win32") else 24


def _ticks(s, n):
    for _ in range(n):
        s.tick()


def _prove(fn, *args):
    """Warm up, then run fn under heap_lock and measure its allocation."""
    fn(*args)
    heap_locked(fn, *args)
    assert alloc_delta(fn, *args) == 0


# -- the cycles: (setup(cs) -> (fn, args, check)) -------------------------------------------


def cell_cycle(cs):
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    n = [0]

    async def waiter():
        while True:
            await cell.wait()
            n[0] += 1

    s.spawn(waiter())
    s.tick(POLLS)

    def cycle():
        cell.wake()  # waiter parked: the wake path
        s.tick(POLLS)
        cell.wake()  # nobody waiting: remembered
        s.tick(POLLS)

    return s, cycle, lambda: n[0] > 0 and not cell.pending


def queue_event_cycle(cs):
    s = StaticScheduler(8, critical_section=cs)
    q = WaitQueue(cs)
    ev = Event(cs)
    n = [0]

    async def q_waiter():
        while True:
            await q.wait()
            n[0] += 1

    async def ev_waiter():
        while True:
            await ev.wait()
            n[0] += 1
            await yield_now()

    for _ in range(3):
        s.spawn(q_waiter())
        s.spawn(ev_waiter())
    s.tick(POLLS)

    def cycle():
        q.wake()
        q.wake_all()
        ev.set()
        s.tick(POLLS)
        ev.clear()
        s.tick(POLLS)

    return s, cycle, lambda: n[0] > 0 and q.count == 3


def lock_cycle(cs):
    s = StaticScheduler(12, critical_section=cs)
    m = Mutex(cs)
    sem = Semaphore(2, cs)
    rw = RwLock(cs)
    n = [0]

    async def m_user():
        while True:
            await m.lock()
            await yield_now()
            m.unlock()

    async def m_with_user():
        while True:
            async with m:
                await yield_now()

    async def sem_user(k):
        while True:
            await sem.acquire(k)
            await yield_now()
            sem.release(k)
            n[0] += 1

    async def reader():
        while True:
            await rw.read()
            await yield_now()
            rw.read_unlock()

    async def writer():
        while True:
            await rw.write()
            await yield_now()
            rw.write_unlock()

    for _ in range(2):
        s.spawn(m_user())
        s.spawn(m_with_user())
        s.spawn(sem_user(1))
        s.spawn(sem_user(2))
        s.spawn(reader())
        s.spawn(writer())
    s.tick(POLLS)

    def cycle():
        for _ in range(20):
            s.tick(POLLS)

    return s, cycle, lambda: n[0] > 0 and m.waiters() > 0


def channel_cycle(cs):
    s = StaticScheduler(8, critical_section=cs)
    ch = Channel(2, cs)
    nones = Channel(1, cs)
    got = [0]

    async def producer():
        i = 0
        while True:
            await ch.send(i)
            i = (i + 1) & 0xFF

    async def consumer():
        while True:
            await ch.ready()
            if ch.try_recv() is not None:
                got[0] += 1

    async def none_consumer():
        while True:
            await nones.recv()  # None items end the await without allocating
            got[0] += 1

    s.spawn(producer())
    s.spawn(consumer())
    s.spawn(none_consumer())
    s.tick(POLLS)

    def cycle():
        ch.try_send(7)  # the interrupt-side entry point
        nones.try_send(None)
        for _ in range(5):
            s.tick(POLLS)

    return s, cycle, lambda: got[0] > 0


def map_cycle(cs):
    s = StaticScheduler(4, critical_section=cs)
    wm = WaitMap(cs)
    n = [0]

    async def requester(key):
        while True:
            await wm.wait(key)
            n[0] += 1

    s.spawn(requester(7))
    s.spawn(requester(9))
    s.tick(POLLS)

    def cycle():
        wm.wake(9)
        wm.wake(7)
        wm.wake(8)  # nobody waits on 8
        s.tick(POLLS)

    return s, cycle, lambda: n[0] > 0 and wm.waiters() == 2


CYCLES = (cell_cycle, queue_event_cycle, lock_cycle, channel_cycle, map_cycle)


def _no_failures(s):
    assert s.failed_total == 0
    assert s.live_count() > 0


@micropython_only
def test_wait_and_wake_paths_allocate_nothing():
    for setup in CYCLES:
        s, cycle, check = setup(thread_section())
        _prove(cycle)
        assert check(), setup.__name__
        _no_failures(s)


@micropython_only
def test_nothing_allocates_inside_a_critical_section():
    for setup in CYCLES:
        machine = HeapLockingMachine()
        cs = IrqCriticalSection(machine)
        s, cycle, check = setup(cs)
        for _ in range(5):
            cycle()
        try:
            assert machine.depth == 0, setup.__name__  # every section was left
        finally:
            while machine.depth:
                machine.enable_irq(machine.depth - 1)
        assert machine.entered > 10
        assert check(), setup.__name__
        _no_failures(s)


@micropython_only
def test_critical_section_with_statement_allocates_nothing_and_masks():
    machine = HeapLockingMachine()
    cs = IrqCriticalSection(machine)

    def nested():
        with cs:
            with cs:
                pass

    _prove(nested)
    assert machine.depth == 0


def _isr_entries(cell, q, ev, sem, ch, wm, cs):
    # Every entry point an interrupt handler may call, with nobody waiting.
    cell.wake()
    q.wake()
    q.wake_all()
    ev.set()
    ev.clear()
    ev.is_set()
    sem.release(2)
    sem.try_acquire(2)
    ch.try_send(3)
    ch.try_send(4)
    ch.try_recv()
    ch.try_recv()
    ch.try_recv()  # empty: the default
    wm.wake(5, None)
    s = cs.try_enter()
    cs.exit(s)
    with cs:
        pass


@micropython_only
def test_isr_entry_points_allocate_nothing():
    cs = thread_section()
    args = (WaitCell(cs), WaitQueue(cs), Event(cs), Semaphore(0, cs), Channel(2, cs),
            WaitMap(cs), cs)
    _isr_entries(*args)
    heap_locked(_isr_entries_packed, args)
    assert alloc_delta(_isr_entries_packed, args) == 0


def _isr_entries_packed(a):
    _isr_entries(a[0], a[1], a[2], a[3], a[4], a[5], a[6])


@micropython_only
def test_closing_allocates_nothing():
    cs = thread_section()
    prims = [WaitCell(cs), WaitQueue(cs), Event(cs), Semaphore(0, cs), Channel(2, cs),
             WaitMap(cs)]

    def close_all():
        for p in prims:
            p.close()

    close_all()
    heap_locked(close_all)
    assert alloc_delta(close_all) == 0
