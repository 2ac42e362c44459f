# The traced FIFO tick writes a yielding poll's POLL_BEGIN/POLL_END pair with machine stores
# of its own (sched/tracedfifo.py), not through trace/writers.py: at every position of small
# rings (the pair split by the ring's end, the ring filling up by one record or by two) it
# keeps exactly the last records a large ring holds, and counts the rest as dropped, also
# when the dropped count wraps below 2**30.
from shimeji import FakeClock, StaticScheduler, Trace, yield_now
from shimeji.trace import writers as W


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
