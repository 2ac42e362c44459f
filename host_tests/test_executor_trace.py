"""A Trace attached to an executor's worker records that worker's polls, and the executor's
own events: STEAL (a task handed to this worker; arg: the worker it came from) and
CROSS_CORE_WAKE (a task here woken from another worker's thread; arg: that worker). Records
from other threads go through the trace's side ring under the critical section."""

from shimeji import Event, Executor, Trace, core, port, yield_now
from shimeji.trace import kinds as K
from shimeji.trace import writers
from support import executor_capacity, heap_scaled, needs_thread_module, needs_threads


def _nap():
    import time

    time.sleep_ms(1) if hasattr(time, "sleep_ms") else time.sleep(0.001)


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_worker_trace_records_its_polls_steals_and_cross_worker_wakes():
    ex = Executor(workers=2, capacity=48)
    w0, w1 = ex.workers
    # Two rings of 16 B records and the list each is made from: scaled to the heap (an RP2040
    # fits ~900 records each, not 4096), with fewer children (~70 records each, at most).
    size = heap_scaled(4096, 2 * 32, least=512)
    n = min(40, size // 70)
    traces = [Trace(size, side=128).attach(w0), Trace(size, side=128).attach(w1)]
    ev = Event()
    seen = []

    async def child():
        for _ in range(30):
            await yield_now()

    async def waiter():
        await ev.wait()
        seen.append(1)

    async def main():
        hw = w1.spawn(waiter())  # on worker 1, from worker 0's thread
        for _ in range(2000):  # (a nap without the GIL each turn: with a GIL on one CPU a
            if w1._request is None and w0._request is not None or w1.sleeping:
                break  # thread that only yields may never let worker 1's run: session 18)
            _nap()
            await yield_now()
        traces[0].clear()  # the wait above polled main many times: not what is checked here
        hs = [ex.spawn(child()) for _ in range(n)]  # all on worker 0: worker 1 steals
        for h in hs:
            await h
        ev.set()  # from worker 0's thread: a cross-worker wake of the waiter on worker 1
        await hw

    ex.run(main())
    assert seen == [1]
    recs = [t.records() for t in traces]
    steals = [r for r in recs[1] if r[1] == K.STEAL]
    assert w1.stolen > 0 and len(steals) == w1.stolen  # one per task handed over
    assert all(r[3] == 0 for r in steals)  # all from worker 0
    assert not [r for r in recs[0] if r[1] == K.STEAL] or w0.stolen > 0
    cross = [r for r in recs[1] if r[1] == K.CROSS_CORE_WAKE]
    assert cross and all(r[3] == 0 for r in cross)
    assert [t.dropped for t in traces] == [0, 0], [len(r) for r in recs]
    for i, r in enumerate(recs):  # each trace has its own worker's polls, in pairs
        begins = sum(1 for x in r if x[1] == K.POLL_BEGIN)
        ends = sum(1 for x in r if x[1] == K.POLL_END)
        assert begins == ends and begins > 0, i


@needs_threads
def test_a_wake_and_a_spawn_between_tasks_of_one_worker_name_the_task_that_made_them():
    ex = Executor(workers=1, capacity=8)
    (w0,) = ex.workers
    trace = Trace(1024, side=64).attach(w0)
    ev = Event()
    ids = {}

    async def waiter():
        await ev.wait()

    async def main():
        ids["main"] = core.current_context().slot.id
        hw = w0.spawn(waiter())  # spawned by main, on main's worker and thread
        ids["waiter"] = hw.id
        await yield_now()  # the waiter parks on the event
        ev.set()  # a wake by main, on the same worker's thread
        await hw

    ex.run(main())
    recs = trace.records()
    spawns = [(r[2], r[3]) for r in recs if r[1] == K.SPAWN]
    assert (ids["waiter"], ids["main"]) in spawns  # the parent is main, not 0
    wakes = [(r[1], r[3]) for r in recs if r[2] == ids["waiter"] and r[1] in (
        K.WAKE_TASK, K.WAKE_EXTERNAL, K.WAKE_TIMER)]
    assert wakes == [(K.WAKE_TASK, ids["main"])]


async def _yielding():
    await yield_now()


@needs_thread_module  # an Executor, driven on this thread
def test_a_spawn_from_another_thread_reaches_the_ring_through_its_side_ring():
    # A worker's main ring has one writer, the worker's own thread, with no lock. A spawn
    # onto it from anywhere else (here: this thread, not the worker's) goes to the side ring
    # under the critical section and reaches the main ring at the worker's next tick; before,
    # it wrote the main ring's words at once, while the worker's thread might be writing them.
    ex = Executor(workers=2, capacity=8)
    w1 = ex.workers[1]
    trace = Trace(64, side=8).attach(w1)
    before = [trace.buf[i] for i in (writers.POS, writers.COUNT)]
    h = w1.spawn(_yielding(), "injected")
    assert [trace.buf[i] for i in (writers.POS, writers.COUNT)] == before  # main ring untouched
    assert trace.buf[writers.SIDE] == 1
    core.register_thread(w1._ctx)  # this thread is worker 1's now (what Worker.run does)
    try:
        own = w1.spawn(_yielding())  # on the worker's own thread: straight into the ring
        assert trace.buf[writers.SIDE] == 1 and len(trace) == before[1] + 1
        while not (h.is_complete() and own.is_complete()):
            w1.tick()
    finally:
        core.unregister_thread()
    spawns = [(r[2], r[3]) for r in trace.records() if r[1] == K.SPAWN]
    assert sorted(spawns) == sorted([(h.id, 0), (own.id, 0)]), spawns
    assert trace.dropped == 0 and trace.name_of(h.id) == "injected"


@needs_threads  # worker 1 polls, traced, on a thread of its own while this one spawns onto it
def test_spawns_onto_a_traced_worker_from_other_threads_lose_no_record():
    ex = Executor(workers=2, capacity=executor_capacity(24, 2))
    w0, w1 = ex.workers
    size = heap_scaled(4096, 2 * 32, least=512)
    trace = Trace(size, side=64).attach(w1)
    per = max(1, min(16, w1.capacity - 4))
    # ~11 records a task (its spawn, four polls' pairs, its end): all of them fit the ring
    rounds = max(1, min(3 if port.GIL else 12, size // (16 * per)))
    ids = []

    async def child():
        for _ in range(3):
            await yield_now()

    async def main():  # on worker 0's thread: every spawn below is another thread's for w1
        for _ in range(rounds):
            hs = [w1.spawn(child()) for _ in range(per)]
            ids.extend(h.id for h in hs)
            for h in hs:
                await h

    ex.run(main())
    recs = trace.records()
    spawns = sorted(r[2] for r in recs if r[1] == K.SPAWN)
    assert trace.dropped == 0, (trace.dropped, len(recs))
    assert spawns == sorted(ids)  # each spawn recorded once, none torn or overwritten
    begins = sum(1 for x in recs if x[1] == K.POLL_BEGIN)
    ends = sum(1 for x in recs if x[1] == K.POLL_END)
    assert begins == ends and begins > 0
