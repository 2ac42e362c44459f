# The traced FIFO tick writes a yielding poll's POLL_BEGIN/POLL_END pair with machine stores
# of its own (sched/tracedfifo.py), not through trace/writers.py: at every position of small
# rings (the pair split by the ring's end, the ring filling up by one record or by two) it
# keeps exactly the last records a large ring holds, and counts the rest as dropped, also
# when the dropped count wraps below 2**30. The task id in those records is the slot's W_ID
# word (task/words.py), which only a trace writes: right for tasks spawned before the trace
# was attached, in slots an untraced spawn reused, and for tasks a traced worker stole.
from shimeji import Executor, FakeClock, StaticScheduler, Trace, yield_now
from shimeji.trace import kinds as K
from shimeji.trace import writers as W
from support import needs_threads


def run(size, yields, tasks=2, dropped=0):
    clk = FakeClock(0, 1000)
    s = StaticScheduler(4, clock_us=clk)
    tr = Trace(size).attach(s)
    tr.buf[W.DROPPED] = dropped

    async def spinner(k):
        for _ in range(yields):
            clk.advance_us(k)
            await yield_now()

    for k in range(1, tasks + 1):
        s.spawn(spinner(k), "spin%d" % k)
    while s.tick(3).polled:  # ticks of 3 polls: the pairs fall at every ring position
        pass
    return tr


def test_every_ring_position_keeps_the_last_records_and_counts_the_rest():
    whole = run(512, 9).records()
    assert len(whole) == 2 + 2 * 20 + 2  # spawns, 2 x 10 polls (9 yields and the end), ends
    for size in range(2, 12):
        for yields in (0, 1, 2, 3, 9):
            ref = run(512, yields).records()
            tr = run(size, yields)
            kept = min(size, len(ref))
            assert tr.records() == ref[len(ref) - kept:], (size, yields)
            assert (len(tr), tr.dropped) == (kept, len(ref) - kept), (size, yields)


def test_the_dropped_count_wraps_below_2_to_the_30():
    for size in (2, 3, 4, 5):
        for start in ((1 << 30) - 1, (1 << 30) - 2, (1 << 30) - 3):
            ref = run(512, 4).records()
            tr = run(size, 4, dropped=start)
            assert tr.records() == ref[len(ref) - size:], (size, start)
            assert tr.dropped == (start + len(ref) - size) & ((1 << 30) - 1), (size, start)


def polled_ids(tr):
    return sorted({r[2] for r in tr.records() if r[1] in (K.POLL_BEGIN, K.POLL_END)})


def test_the_records_name_tasks_spawned_before_the_trace_and_in_reused_slots():
    s = StaticScheduler(4)

    async def spinner(k):
        for _ in range(k):
            await yield_now()

    tr = Trace(256).attach(s)
    for _ in range(4):  # ids 1-4 written into the slots' words by the trace
        s.spawn(spinner(1))
    while s.tick().polled:
        pass
    tr.detach()
    hs = [s.spawn(spinner(3)) for _ in range(3)]  # untraced: the same slots, ids 5-7
    s.tick(1)
    tr.clear()
    tr.attach(s)  # writes the live (and free) slots' ids
    hs.append(s.spawn(spinner(3)))  # traced: its own
    while s.tick().polled:
        pass
    ids = sorted(h.id for h in hs)
    assert ids == [5, 6, 7, 8]
    assert polled_ids(tr) == ids


@needs_threads  # the workers are threads
def test_a_traced_worker_names_the_tasks_it_stole_from_an_untraced_one():
    ex = Executor(workers=2, capacity=48)
    w0, w1 = ex.workers
    tr = Trace(2048, side=128).attach(w1)  # worker 0 untraced: its spawns write no W_ID
    hs = []

    async def child():
        for _ in range(20):
            await yield_now()

    async def main():
        for _ in range(2000000):  # until worker 1 idles and asks for work
            if w1._request is None and w0._request is not None or w1.sleeping:
                break
            await yield_now()
        for _ in range(20):
            hs.append(ex.spawn(child()))
        for h in hs:
            await h

    ex.run(main())
    stolen = sorted(r[2] for r in tr.records() if r[1] == K.STEAL)
    assert stolen and len(stolen) == w1.stolen
    assert set(polled_ids(tr)) <= set(stolen)  # each poll there names a task it stole
    assert set(stolen) <= {h.id for h in hs}
