"""Task ids are unique across an executor's workers: each worker's pool hands out ids from a
range of its own (``TaskPool.set_id_range``), so a task stolen by another worker never shares
its id with a task of the thief, in ``top()``, in handles, or in the thief's trace (where it
would share a track with it). The ids wrap within the range and skip live ones."""

from shimeji import BadArgument, Event, Executor, StaticScheduler, Trace, yield_now
from shimeji.trace import kinds as K
from shimeji.trace import ring
from support import heap_scaled, needs_threads


async def nop():
    pass


def stolen_while_the_thief_has_tasks(traced=False):
    """A real two-worker run: worker 1 has tasks of its own, waiting, while it steals tasks
    that worker 0 spawned. Returns (executor, traces, own handles, children handles). Whether
    worker 1 gets a core in time to steal is up to the OS: on a loaded machine it sometimes
    does not, so the run is repeated (up to five times) until it has stolen."""
    for _ in range(5):
        run = _one_run(traced)
        if run[0].workers[1].stolen:
            break
    return run


def _one_run(traced):
    ex = Executor(workers=2, capacity=48)
    w0, w1 = ex.workers
    size = heap_scaled(4096, 2 * 32, least=512) if traced else 0  # as test_executor_trace
    n = min(40, size // 70) if traced else 40
    traces = [Trace(size, side=128).attach(w) for w in ex.workers] if traced else []
    go = Event()
    own = []
    children = []

    async def waiter():
        await go.wait()

    async def child():
        for _ in range(30):
            await yield_now()

    async def main():
        for i in range(40):  # ids 1..40 before the ranges: every child's id among them
            own.append(w1.spawn(waiter(), "own%d" % i))  # on worker 1, live until go
        for _ in range(2000000):
            if w1._request is None and w0._request is not None or w1.sleeping:
                break
            await yield_now()
        for i in range(n):  # all on worker 0: worker 1 steals some
            children.append(ex.spawn(child(), "child%d" % i))
        for h in children:
            await h
        go.set()
        for h in own:
            await h

    ex.run(main())
    return ex, traces, own, children


@needs_threads  # the workers are threads
def test_a_stolen_task_keeps_an_id_no_task_of_the_thief_has():
    ex, _, own, children = stolen_while_the_thief_has_tasks()
    w0, w1 = ex.workers
    assert w1.stolen > 0
    ids = [h.id for h in own + children]
    assert len(set(ids)) == len(ids), sorted(ids)
    first0, last0 = w0._id_range
    first1, last1 = w1._id_range
    assert first0 == 1 and last0 < first1 <= last1 <= (1 << 30) - 1
    assert all(first1 <= h.id <= last1 for h in own)
    assert all(first0 <= h.id <= last0 for h in children)


@needs_threads  # the workers are threads
def test_the_thiefs_trace_has_one_task_per_id():
    ex, traces, own, children = stolen_while_the_thief_has_tasks(traced=True)
    recs = traces[1].records()
    stolen = {r[2] for r in recs if r[1] == K.STEAL}
    spawned_here = {r[2] for r in recs if r[1] == K.SPAWN}
    assert stolen and spawned_here >= {h.id for h in own}
    assert not stolen & spawned_here  # failed before the ranges: the same ids on both
    assert stolen <= {h.id for h in children}
    first1, last1 = ex.workers[1]._id_range
    assert all(first1 <= tid <= last1 for tid in spawned_here)
    assert all(tid < first1 for tid in stolen)  # worker 0's range
    # join() detached the workers' traces: trace.ring.last (tools/trace.py pull's) kept the
    # whole finished executor through its scheduler (96 KB on the ESP32-C3); records stay
    assert all(t.sched is None and len(t) > 0 for t in traces) and ring.last in traces
    assert all(w._trace is None for w in ex.workers)


@needs_threads  # an Executor, driven on this thread
def test_ids_wrap_within_the_workers_range_and_skip_live_ones():
    ex = Executor(workers=2, capacity=4)
    w = ex.workers[1]
    first, last = w._id_range

    async def spin():
        while True:
            await yield_now()

    w._next_id = last - 1
    live = w.spawn(spin())
    ids = [live.id]
    for _ in range(3):
        h = w.spawn(nop())
        w.tick()
        ids.append(h.id)
    assert ids == [last - 1, last, first, first + 1] and w.ids_wrapped
    w._next_id = last - 1  # round again: the live task's id is skipped
    h = w.spawn(nop())
    assert h.id == last
    w.tick()
    h = w.spawn(nop())
    assert h.id == first
    live.cancel()
    w.tick()
    assert live.is_complete() and w.live_count() == 0


def test_a_scheduler_hands_out_ids_from_its_range():
    s = StaticScheduler(4)
    assert s._id_range == (1, (1 << 30) - 1) and not s.ids_wrapped
    s.set_id_range(100, 102)
    ids = []
    for _ in range(4):
        h = s.spawn(nop())
        s.tick()
        ids.append(h.id)
    assert ids == [100, 101, 102, 100] and s.ids_wrapped


def test_a_bad_id_range_is_refused_and_the_old_one_kept():
    s = StaticScheduler(2)
    for first, last in ((0, 5), (5, 4), (1, 1 << 30)):
        try:
            s.set_id_range(first, last)
        except BadArgument as e:
            assert "set_id_range(%d, %d)" % (first, last) in str(e)
        else:
            raise AssertionError("set_id_range(%d, %d) accepted" % (first, last))
    h = s.spawn(nop())
    s.tick()
    assert h.id == 1 and s._id_range == (1, (1 << 30) - 1)
