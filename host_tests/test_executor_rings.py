"""The yield rings of an executor's workers and the heap they keep: a worker task's yield
allocates nothing, each worker thread gets a ring of its own once two poll, workers that
register at once leave one entry, and the heap is flat after warm-up
(docs/executor.md, "Per-core context")."""

import time

from shimeji import (
    Executor,
    core,
    port,
    yield_now,
    yielding,
)
from support import (
    acquire_within,
    alloc_delta,
    micropython_only,
    needs_extra_threads,
    needs_threads,
    reserve_threads,
    start_thread,
)

# ESP32: the four threads of the registering test, made while their stacks fit
# (support.reserve_threads); elsewhere nothing.
reserve_threads(4)


@needs_threads  # the workers are threads (the qemu port has none)
@micropython_only
def test_the_heap_is_flat_after_warm_up():
    import gc

    ex = Executor(workers=2, capacity=64)
    live = []

    async def child():
        for _ in range(10):
            await yield_now()

    async def round_(n):
        for h in [ex.spawn(child()) for _ in range(n)]:
            await h

    async def main():
        for _ in range(3):  # warm-up: every slot of worker 0 used (a slot keeps its last
            await round_(63)  # handle, so a slot used for the first time keeps 128 B more)
        # and every slot of worker 1: a spawn finds worker 0's pool full while slots freed
        # on worker 1 are on their way back, spills to worker 1, and first-used slots there
        # grew the heap by 896 B (7 x 128) between two measured rounds in ~1 run of 3
        for h in [ex.workers[1].spawn(child()) for _ in range(64)]:
            await h
        for _ in range(4):
            gc.collect()
            live.append(gc.mem_alloc())
            await round_(40)

    ex.run(main())
    # Nothing is kept from round to round once warm: a leak of even 8 B per task would grow
    # the heap by 640 B over the last two rounds. The first measured round still settles
    # once (768 B, the same in every run), and the collector scans the other worker's stack
    # conservatively: allow 256 B from the second measurement on.
    assert live[-1] - live[1] <= 256, live


@needs_threads  # the workers are threads (the qemu port has none)
@micropython_only
def test_the_yield_a_worker_task_takes_allocates_nothing():
    from shimeji import core, yielding

    ctx = core.Context()
    core.register_thread(ctx)
    try:
        assert alloc_delta(yield_now) == 0  # one worker thread: the shared ring
        assert alloc_delta(yielding._thread_yield) == 0  # several: the thread's own awaitable
        assert yielding._thread_yield() is ctx.yielder
    finally:
        core.unregister_thread()


@needs_threads  # the workers are threads (the qemu port has none)
def test_yield_now_switches_to_the_threads_own_ring_once_two_workers_poll():
    import gc

    from shimeji import core, yielding

    ctx = core.Context()
    other = core.Context()
    plain = yield_now()  # one thread: the shared ring (MicroPython) or the shared YieldNow
    core.register_thread(ctx)
    assert yield_now() is plain  # one polling thread keeps the shared one
    core._threads[-1] = other  # a second worker thread, as register_thread on it would add
    core.register_thread(ctx)  # (again: now two threads poll)
    try:
        if not hasattr(gc, "mem_alloc"):  # CPython: no ring, a YieldNow per thread
            assert yield_now() is ctx.yielder and ctx.yielder.armed
            ctx.yielder.armed = False
            return
        old = ctx.ring
        assert yield_now() is old[1]  # the thread's own ring
        assert alloc_delta(yield_now) == 0
        for _ in old[1]:  # spend what the calls left (they were not awaited)
            pass
        yield_now()  # left in the ring, as a yield_now() not awaited leaves it
        core.renew_ring(ctx)  # before a hand-over: the old ring is spent and retired
        assert ctx.ring is not old and yield_now() is ctx.ring[1]
        assert [x for x in old[1]] == []
        old[0](None)  # nobody appends to a retired ring; were it done, it still works
        assert [x for x in ctx.ring[1]] == [None]
        for _ in old[1]:
            pass
        import _thread

        seen = []
        lock = _thread.allocate_lock()
        lock.acquire()

        def outside():  # no worker's thread: the interpreter's shared ring
            seen.append(yield_now())
            lock.release()

        _thread.start_new_thread(outside, ())
        acquire_within(lock, "the thread outside every worker to call yield_now()")
        assert seen == [plain]
    finally:
        del core._threads[-1]
        core.unregister_thread()
    assert not yielding._threaded and yield_now() is plain
    for _ in plain:  # spend the items the calls above appended
        pass


def _nap():
    time.sleep_ms(1) if hasattr(time, "sleep_ms") else time.sleep(0.001)


def _wait_for(done, what):
    """Nap until ``done()`` (at most ~10 s): a test that waits on other threads never hangs."""
    for _ in range(10000):
        if done():
            return
        _nap()
    raise AssertionError("waited 10 s for " + what)


def _register_four_at_once():

    # One element per thread, each written by its own thread only: with no GIL (the unix
    # port) two threads appending to one list at once can lose an item, and a wait on its
    # length then never ends (seen as a hang in a fresh-clone run, 2026-12-06).
    go = [False]
    ready = [False] * 4
    seen = [None] * 4
    finished = [False] * 4

    def worker(i):
        ctx = core.Context()
        ready[i] = True
        for _ in range(10000000):  # spins until go; bounded
            if go[0]:
                break
            if port.GIL:  # a spin keeps the GIL: where threads switch only when one waits
                _nap()  # (one core: ESP32-C3, SCHED_FIFO) no other thread ran before 10**7
        core.register_thread(ctx)
        seen[i] = len(yielding._threaded)
        for _ in range(10000):
            if None not in seen:
                break
            _nap()
        core.unregister_thread()
        finished[i] = True

    for i in range(4):
        start_thread(worker, i)  # ESP32: a thread parked at the module's import
    _wait_for(lambda: all(ready), "the four threads to start")
    go[0] = True
    _wait_for(lambda: all(finished), "the four threads to register and unregister")
    return seen


@needs_extra_threads(4)  # four threads register as workers at the same moment
def test_workers_registering_at_once_leave_one_threaded_entry():
    # Workers start together; two registering at once both found yielding._threaded empty and
    # extended it twice (a list of six), after which every yield_now on a worker failed to
    # unpack it ("too many values to unpack", seen once in a fresh-clone run on 4 workers).
    for _ in range(10):
        seen = _register_four_at_once()
        assert all(n in (0, 3) for n in seen), seen
        assert yielding._threaded == []


@micropython_only  # (CPython has no ring yield: new_yield_ring gives None there)
def test_a_new_ring_allocates_only_its_deque_and_iterator():
    # A victim renews its ring at every hand-over (renew_ring). Until session 22 each new ring
    # ran the import's probe of the port's deque again (three coroutines driven to their end):
    # 865 B and 4 us a ring on the unix port, 421 us on the RP2040 (emulated, 125 MHz).
    from collections import deque

    def bare():
        ring = deque((), 4)
        return ring.append, iter(ring)

    core.new_yield_ring()
    bare()
    assert core.new_yield_ring() is not None
    assert alloc_delta(core.new_yield_ring) <= alloc_delta(bare) + 32
