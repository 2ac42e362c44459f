"""The executor allocates nothing inside its critical section (issue 14, docs/executor.md "Session
18"). On the RP2040 with core 1 running the section is the rp2 port's mutex across both cores, and
allocating inside it waits for the GC's mutex: both cores can stop. Two sections (heaplocked.py),
for the executor and its primitives: locked (MicroPython): ``micropython.heap_lock()`` while a
thread holds the section, so allocating there raises ``MemoryError``; with every worker on its own
thread (stress, spawns from another thread into the injector, close under load); solo (builds with
``micropython.mem_total``: the unix port): the bytes allocated between entering and leaving, exact
while one thread runs, so the workers are driven on this thread. It sees what a locked heap hides:
a bytecode call whose frame passes 11 words takes its frame from the heap, or from the C stack when
the heap is locked. Without ``mem_total`` (boards) the solo tests run locked. CPython has neither
heap lock nor allocation count: there the same workloads run through a section that only counts,
and the tests check it was used and every entry left."""

from mpyheap import needs_heap_beside_mpy_code
from test_executor import _stress
from test_executor_injector import _feed_from_another_thread
from test_executor_stress import _churn, _close_under_load

from heaplocked import HeapLockedSection
from shimeji import (
    Cancelled,
    Channel,
    Event,
    Executor,
    ExecutorClosed,
    PoolFull,
    TaskSlot,
    Timeout,
    sleep_ms,
    timeout,
    yield_now,
)
from support import needs_extra_threads, needs_thread_module, needs_threads, raises


async def _leaf(i):
    await yield_now()
    return i


async def _forever():
    while True:
        await yield_now()


async def _fails(i):
    await yield_now()
    raise ValueError(i)


async def _returns_an_error(i):
    return KeyError(i)  # a returned exception: its handle wraps it (completed_ref)


def _solo(workers=1, capacity=8):
    cs = HeapLockedSection(solo=True)
    return cs, Executor(workers=workers, capacity=capacity, critical_section=cs)


@needs_thread_module  # an Executor, driven on this thread
def test_spawns_joins_and_refusals_on_a_worker_allocate_nothing_inside_the_section():
    cs, ex = _solo(capacity=12)
    mine = [TaskSlot() for _ in range(3)]

    async def main():
        total = 0
        for _ in range(4):  # every slot's handle handed out, and made again (spare.py)
            hs = [ex.spawn(_leaf(i)) for i in range(6)]
            hs.append(ex.spawn(_leaf(10), name="named"))  # a name: the spare handle too
            hs += [ex.workers[0].spawn_allocated(mine[i], _leaf(20 + i)) for i in range(3)]
            ex.spawn_detached(_leaf(0))
            ex.workers[0].spawn_detached(_leaf(0))
            for h in hs:
                total += await h
        with raises(PoolFull, "task slots hold live tasks"):  # made after leaving the section
            for _ in range(13):
                coro = _forever()
                ex.spawn(coro)
        coro.close()  # refused: still ours
        return total

    assert ex.run(main()) == 4 * (sum(range(6)) + 10 + sum(range(20, 23)))
    assert all(w.live_count() == 0 for w in ex.workers)  # the close cancelled the rest
    assert cs.check_balanced() > 100


@needs_thread_module  # an Executor, driven on this thread
def test_cancels_failures_and_returned_errors_allocate_nothing_inside_the_section():
    cs, ex = _solo(capacity=16)

    async def main():
        spinning = [ex.spawn(_forever()) for _ in range(4)]
        for _ in range(3):
            await yield_now()
        for h in spinning:
            assert h.cancel()
        for h in spinning:
            with raises(Cancelled):
                await h
        with raises(ValueError):
            await ex.spawn(_fails(1))
        got = await ex.spawn(_returns_an_error(2))
        assert isinstance(got, KeyError)
        return len(spinning)

    assert ex.run(main()) == 4
    assert cs.check_balanced() > 20


@needs_thread_module  # an Executor, driven on this thread
def test_channels_events_sleeps_and_timeouts_on_the_section_allocate_nothing_inside_it():
    cs, ex = _solo(capacity=16)
    ch = Channel(2, critical_section=cs)
    ev = Event(critical_section=cs)

    async def producer(n):
        for i in range(n):
            await ch.send(i)  # parks when the channel is full: woken by the receiver

    async def waiter():
        await ev.wait()
        return 1

    async def late():
        await sleep_ms(1)
        with raises(Timeout):
            await timeout(ev.wait(), 1)  # expires: ev is set only after it
        return 2

    async def main():
        total = 0
        for _ in range(3):
            hs = [ex.spawn(producer(10))] + [ex.spawn(waiter()) for _ in range(3)]
            hs.append(ex.spawn(late()))
            for _ in range(10):
                total += await ch.recv()
            await hs[-1]
            ev.set()
            for h in hs[:-1]:
                total += await h or 0
            ev.clear()
            parked = [ex.spawn(waiter()), ex.spawn(producer(3)), ex.spawn(late())]
            for _ in range(3):
                await yield_now()
            for h in parked:  # cancelled where they wait: the event, the full channel, a sleep
                assert h.cancel()
            for h in parked:
                with raises(Cancelled):
                    await h
            total += await ch.recv() + await ch.recv()  # the 0 and 1 sent before it parked
        return total

    assert ex.run(main()) == 3 * (sum(range(10)) + 3 + 1)
    assert cs.check_balanced() > 100


@needs_thread_module  # an Executor, driven on this thread
@needs_heap_beside_mpy_code(19 * 1024)  # failed with 18 KB on the .mpy path (RP2040 s. 22)
def test_injected_spawns_a_grown_pool_and_a_close_allocate_nothing_inside_the_section():
    cs, ex = _solo(workers=2, capacity=4)
    hs = [ex.spawn(_leaf(i)) for i in range(6)]  # from no worker: into the injector
    with raises(PoolFull, "every worker's 4 task slots"):
        for _ in range(3):
            coro = _leaf(0)
            ex.spawn(coro)
    coro.close()
    w0, w1 = ex.workers
    for w in ex.workers:
        w.grow = True  # grow mode: a full worker makes a slot (outside the section)

    async def main():
        total = 0
        for h in hs:
            total += await h
        more = [ex.spawn(_leaf(i)) for i in range(10)]  # worker 0 grows past its 4
        for h in more:
            total += await h
        return total

    # worker 0 alone, on this thread (solo): it takes every injected task
    assert ex.run_worker(0, main()) == sum(range(6)) + sum(range(10))
    assert w0.grown >= 6 and w1.grown == 0
    ex.close()  # (worker 1, which never ran, is shut down by join on this thread)
    ex.join()
    coro = _leaf(0)
    with raises(ExecutorClosed):
        ex.spawn(coro)
    coro.close()
    assert all(w.live_count() == 0 for w in ex.workers)
    assert cs.check_balanced() > 40


@needs_thread_module  # an Executor, driven on this thread
@needs_heap_beside_mpy_code(32 * 1024)  # failed with 31 KB on the .mpy path (RP2040 s. 22)
def test_hand_overs_the_injector_and_traced_workers_allocate_nothing_inside_the_section():
    from shimeji import Trace

    cs, ex = _solo(workers=2, capacity=24)
    victim, thief = ex.workers
    traces = [Trace(256, side=64).attach(w) for w in ex.workers]  # STEAL, SPAWN side records
    spinning = [victim.spawn(_forever()) for _ in range(12)]
    victim._drain_inbox()
    victim._request = thief  # as the thief's _steal leaves it
    thief._asked = victim
    victim._serve()  # the newer half into the thief's inbox, the answer, the ring
    assert thief.stolen == 6 and thief._answer == 6
    thief.sleeping = True  # as its _sleep leaves it, asleep on its bell
    ex.sleepers += 1
    victim._share()  # half of the rest straight into the sleeper's inbox
    assert thief.stolen == 9 and not thief.sleeping
    injected = [ex.spawn(_leaf(i)) for i in range(4)]  # from no worker: the injector
    assert thief._take_injected(8) == 4
    for h in spinning[:3] + injected[:1]:
        assert h.cancel()  # from a thread that is neither's: into their slots, then wakes
    thief._bell.acquire(0)  # (the rings above released it: held again, as at rest)
    ex.close()
    ex.join()  # both workers shut down on this thread: their tasks cancelled, completed
    assert all(w.live_count() == 0 for w in ex.workers)
    assert [t.dropped for t in traces] == [0, 0]
    assert cs.check_balanced() > 40


def _on_two_workers(rounds):
    cs = HeapLockedSection()
    ex = Executor(workers=2, capacity=32, critical_section=cs)
    ch = Channel(4, critical_section=cs)
    stop = Event(critical_section=cs)
    mine = [TaskSlot() for _ in range(2)]

    async def child(i):
        h = ex.spawn(_leaf(i))  # on this worker; it may be stolen
        await ch.send(i)
        return await h

    async def waiter():
        await stop.wait()

    async def main():
        total = 0
        for _ in range(rounds):
            waiters = [ex.spawn(waiter()) for _ in range(3)]
            hs = [ex.spawn(child(i)) for i in range(10)]
            hs += [ex.workers[1].spawn_allocated(mine[i], _leaf(i)) for i in range(2)]
            for _ in range(10):
                total += await ch.recv()
            for h in hs:
                total += await h
            waiters[0].cancel()  # from this worker, for a task on either
            stop.set()  # wakes across workers
            for h in waiters:
                try:
                    await h
                except Cancelled:
                    pass
            stop.clear()
        return total

    assert ex.run(main()) == rounds * (2 * sum(range(10)) + 1)
    assert cs.check_balanced() > 100
    return ex


@needs_threads  # worker 1 on its own thread
def test_two_workers_spawning_stealing_and_waking_allocate_nothing_inside_the_section():
    ex = _on_two_workers(5)
    assert sum(w.stolen for w in ex.workers) == sum(w.given for w in ex.workers)


@needs_threads  # worker 1 on its own thread
def test_the_stress_allocates_nothing_inside_the_section_on_two_workers():
    cs = HeapLockedSection()
    _stress(2, cs)  # children spawning grandchildren, a channel, cancelled sleepers
    assert cs.check_balanced() > 100


@needs_extra_threads(2)  # worker 1's thread and the feeding thread
def test_feeding_the_injector_under_load_allocates_nothing_inside_the_section():
    cs = HeapLockedSection()
    _feed_from_another_thread(2, cs)  # PoolFull refusals and retries from the other thread
    assert cs.check_balanced() > 120


@needs_threads  # worker 1 on its own thread
def test_the_churn_allocates_nothing_inside_the_section_on_two_workers():
    cs = HeapLockedSection()
    _churn(2, cs)  # spawns, steals, timeouts, channels, cancels across workers
    assert cs.check_balanced() > 100


@needs_extra_threads(3)  # four workers, three of them on threads of their own
def test_the_churn_allocates_nothing_inside_the_section_on_four_workers():
    cs = HeapLockedSection()
    _churn(4, cs)
    assert cs.check_balanced() > 100


@needs_extra_threads(2)  # both workers on threads of their own, closed from the main one
def test_a_close_under_load_allocates_nothing_inside_the_section():
    cs = HeapLockedSection()
    _close_under_load(2, cs)
    assert cs.check_balanced() > 100


@needs_extra_threads(2)  # worker 1 and a feeding thread
def test_spawns_from_another_thread_allocate_nothing_inside_the_section():
    import _thread

    cs = HeapLockedSection()
    ex = Executor(workers=2, capacity=8, critical_section=cs)
    n = 60
    spawned = [None] * n  # written by the feeding thread alone
    fed = _thread.allocate_lock()
    fed.acquire()
    refused = [0]
    failed = [None]  # what the feeding thread raised (a MemoryError: inside a section)

    def feeder():
        try:
            for i in range(n):
                coro = _leaf(i)
                while True:
                    try:
                        spawned[i] = ex.spawn(coro)  # PoolFull made after the section
                        break
                    except PoolFull:
                        refused[0] += 1
                        _nap()
        except BaseException as e:  # noqa: BLE001 (reported by the test, below)
            failed[0] = e
        finally:
            fed.release()

    async def main():
        _thread.start_new_thread(feeder, ())
        while fed.locked():
            await yield_now()
        assert failed[0] is None, failed[0]
        total = 0
        for h in spawned:
            total += await h
        return total

    assert ex.run(main()) == sum(range(n))
    assert cs.check_balanced() > n


def _nap():
    import time

    time.sleep(0.0005)
