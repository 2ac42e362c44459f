# CfsPolicy: weighted shares, least vruntime first, no banked credit, nice checks, the heap.
from gate import Gate
from shimeji import (
    BadPriority,
    CfsPolicy,
    PolicyError,
    StaticScheduler,
    TaskSlot,
    preempt_point,
    yield_now,
)
from shimeji.policy.base import fields_of
from shimeji.policy.cfs import NICE_TO_WEIGHT
from support import FakeClock, raises


def make(capacity=4, **kw):
    clk = FakeClock()
    return clk, StaticScheduler(capacity, policy=CfsPolicy(**kw), clock_us=clk.now)


def spin(clk, counts, i, us=100):
    async def run():
        while True:
            clk.advance(us)
            counts[i] += 1
            await yield_now()

    return run()


def test_weight_table_is_linux():
    assert len(NICE_TO_WEIGHT) == 40
    assert (NICE_TO_WEIGHT[0], NICE_TO_WEIGHT[20], NICE_TO_WEIGHT[25], NICE_TO_WEIGHT[39]) == (
        88761, 1024, 335, 15)


def test_nice_0_against_nice_5_is_about_3_to_1():
    clk, s = make()
    counts = [0, 0]
    s.spawn(spin(clk, counts, 0))
    h5 = s.build_task().priority(5).spawn(spin(clk, counts, 1))
    for _ in range(40):
        s.tick(100)
    a, b = counts
    assert a + b == 4000
    assert 10 * a >= 30 * b and 10 * a <= 31 * b  # 1024 / 335 = 3.06
    assert h5._live_slot().priority == 5 and h5._live_slot().pol.weight == 335


def test_three_way_shares_follow_the_weights():
    clk, s = make()
    counts = [0, 0, 0]
    for i, nice in enumerate((-5, 0, 5)):
        s.build_task().priority(nice).spawn(spin(clk, counts, i))
    for _ in range(50):
        s.tick(100)
    total = sum(counts)
    weights = (3121, 1024, 335)
    for i in range(3):
        expect = total * weights[i] // sum(weights)
        assert abs(counts[i] - expect) <= total // 100, (counts, i)


def test_shares_by_measured_time_not_by_polls():
    clk, s = make()
    counts = [0, 0]
    s.spawn(spin(clk, counts, 0, us=300))  # nice 0, long polls
    s.spawn(spin(clk, counts, 1, us=100))  # nice 0, short polls
    for _ in range(40):
        s.tick(100)
    a, b = counts
    assert abs(3 * a - b) <= 3  # equal CPU time: three short polls per long one


def test_new_task_starts_at_the_minimum():
    clk, s = make()
    ev = []

    async def run(name, n):
        for _ in range(n):
            clk.advance(100)
            ev.append(name)
            await yield_now()

    s.spawn(run("A", 200))
    for _ in range(100):
        s.tick(1)
    s.spawn(run("B", 4))
    for _ in range(8):
        s.tick(1)
    assert "".join(ev[100:]) == "BABABABA"  # no credit for B, no debt either


def test_a_sleeper_cannot_bank_credit():
    clk, s = make(wake_bonus_us=3000)
    g = Gate()
    ev = []

    async def hog():
        while True:
            clk.advance(100)
            ev.append("A")
            await yield_now()

    async def sleeper():
        await g
        while True:
            clk.advance(100)
            ev.append("B")
            await yield_now()

    s.spawn(sleeper())
    s.spawn(hog())
    for _ in range(20):
        s.tick(500)  # A runs alone for 1 s of CPU
        assert ev and "B" not in ev
        del ev[:]  # a 10,000-item list would not fit a 32-bit board's heap in one block
    g.open()
    s.tick(60)
    run = 0
    while ev[run] == "B":
        run += 1
    assert run == 31  # 3 ms of bonus at 100 µs a poll, then the tie goes to A
    assert ev[31:35] == ["A", "B", "A", "B"]


def test_starvation_freedom_at_the_extremes():
    clk, s = make()
    counts = [0, 0, 0]
    for i, nice in enumerate((-20, 0, 19)):
        s.build_task().priority(nice).spawn(spin(clk, counts, i))
    last = [0, 0, 0]
    for _ in range(300):
        s.tick(100)
        if _ % 100 == 99:  # every 10,000 polls, every task has run
            assert counts[1] > last[1] and counts[2] > last[2], counts
            last = list(counts)
    total = sum(counts)
    assert counts[2] >= total * 15 // 89800 - 1


def test_preempt_point_yields_once_ahead_by_the_granularity():
    clk, s = make(granularity_us=1000)
    ev = []

    async def worker(name):
        for _ in range(8):
            clk.advance(300)
            ev.append(name)
            await preempt_point()

    s.spawn(worker("A"))
    s.spawn(worker("B"))
    while s.tick(1).polled:
        pass
    # A runs 4 steps (1200 > 0 + 1000 ahead of B); B catches up and gets 2400 ahead...
    assert "".join(ev) == "AAAABBBBBBBBAAAA"


def test_set_nice_range_and_type_checks():
    clk, s = make()
    counts = [0]
    h = s.spawn(spin(clk, counts, 0))
    for bad in (-21, 20, "0", 1.5, None):
        with raises(BadPriority, "nice value"):
            s.set_priority(h, bad)
    assert h._live_slot().priority == 0 and h._live_slot().pol.weight == 1024
    s.policy.set_nice(h._live_slot(), -3)
    assert (h._live_slot().priority, h._live_slot().pol.weight) == (-3, 1991)
    s.tick(3)
    assert counts == [3]  # still runs after the errors
    for bad in (-1, "x", 1 << 20):
        with raises(PolicyError, "microseconds"):
            CfsPolicy(granularity_us=bad)
        with raises(PolicyError, "microseconds"):
            CfsPolicy(wake_bonus_us=bad)


def test_inherit_lends_a_lower_nice_until_restore():
    clk, s = make()
    counts = [0, 0]
    lo = s.build_task().priority(10).spawn(spin(clk, counts, 0))._live_slot()
    hi = s.build_task().priority(-5).spawn(spin(clk, counts, 1))._live_slot()
    s.tick(2)
    p = s.policy
    p.inherit(lo, hi)
    assert (lo.priority, lo.pol.weight, lo.base_priority) == (-5, 3121, 10)
    p.inherit(hi, lo)  # no loan upwards
    assert hi.priority == -5 and hi.inherited is None
    p.set_priority(lo, 12)  # the own value changes under the loan
    assert (lo.priority, lo.base_priority) == (-5, 12)
    p.restore(lo)
    assert (lo.priority, lo.pol.weight, lo.inherited) == (12, 70, None)


def test_renormalising_keeps_order_and_small_ints():
    clk, s = make()
    counts = [0, 0, 0]
    hs = [s.spawn(spin(clk, counts, i)) for i in range(3)]
    s.tick(3)
    p = s.policy
    for i, h in enumerate(hs):  # jump close to the renormalising point
        h._live_slot().pol.vruntime += (1 << 29) - 150 + i * 100
    p.remove(hs[0]._live_slot())
    p.add(hs[0]._live_slot())
    p.min_vruntime = (1 << 29) - 200
    for _ in range(20):
        s.tick(10)
    assert p.min_vruntime < (1 << 28) + 10000
    assert all(h._live_slot().pol.vruntime < (1 << 28) + 10000 for h in hs)
    assert max(counts) - min(counts) <= 3


def _lcg(x):
    return (x * 1103515245 + 12345) & 0x7FFFFFFF


def test_heap_against_a_sorted_list():
    p = CfsPolicy()
    StaticScheduler(4, policy=p, clock_us=FakeClock().now)
    slots = [TaskSlot() for _ in range(24)]
    for i, sl in enumerate(slots):
        sl.id = i + 1
        fields_of(sl)  # (put_back is given them directly: add() would make their fields)
    queued = []
    x = 7
    for _ in range(3000):
        x = _lcg(x)
        op = x % 3
        free = [sl for sl in slots if sl.pol.queue_pos < 0]
        if op == 0 and free:
            sl = free[(x >> 4) % len(free)]
            sl.pol.vruntime = (x >> 8) % 50  # many ties: insertion order breaks them
            p.put_back(sl, False)
            queued.append(sl)
        elif op == 1 and queued:
            sl = queued[(x >> 4) % len(queued)]
            assert p.remove(sl) is True
            queued.remove(sl)
        else:
            got = p.pick()
            if not queued:
                assert got is None
                continue
            best = queued[0]
            for sl in queued:
                if sl.pol.vruntime < best.pol.vruntime or (
                    sl.pol.vruntime == best.pol.vruntime and sl.pol.seq < best.pol.seq):
                    best = sl
            assert got is best
            queued.remove(got)
        for i in range(p.n):
            assert p.heap[i].queue_pos == i
    assert p.n == len(queued)
