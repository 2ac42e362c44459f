# Poll accounting and the hog report; FIFO opting into measurement; preempt_point under FIFO;
# switching policy.
from shimeji import (
    CfsPolicy,
    FifoPolicy,
    PolicyError,
    PollStats,
    PriorityPolicy,
    RoundRobinPolicy,
    SchedulerBusy,
    StaticScheduler,
    core,
    preempt_point,
    task_stats,
    yield_now,
)
from support import FakeClock, raises


def drain(s, limit=1000):
    n = 0
    while n < limit and s.tick(1).polled:
        n += 1
    return n


class CountingClock(FakeClock):
    def __init__(self):
        FakeClock.__init__(self)
        self.reads = 0

    def now(self):
        self.reads += 1
        return self.t


def test_plain_fifo_never_reads_the_clock():
    clk = CountingClock()
    s = StaticScheduler(4, clock_us=clk.now)

    async def run():
        for _ in range(3):
            await preempt_point()  # never yields under FIFO
            await yield_now()

    hs = [s.spawn(run()) for _ in range(3)]
    drain(s)
    assert clk.reads == 0 and all(h.is_complete() for h in hs)
    assert s.policy.stats is None and s.policy.needs_time is False


def test_fifo_opts_into_measurement():
    clk = FakeClock()
    s = StaticScheduler(4, policy=FifoPolicy(measure=True), clock_us=clk.now)
    assert s.policy.needs_time is True
    seen = []

    async def run(us):
        for _ in range(3):
            clk.advance(us)
            await yield_now()
        clk.advance(us * 2)
        seen.append(task_stats(core.current_task()))

    h = s.spawn(run(100))
    assert task_stats(h) == (0, 0, 0, 0)
    s.spawn(run(50))
    drain(s)
    assert seen == [(3, 300, 100, 0), (3, 150, 50, 0)]
    assert task_stats(h) is None  # finished
    st = s.policy.stats
    assert (st.polls, st.hog_count, st.longest_us) == (8, 0, 200)


def test_a_hog_is_named_not_killed():
    clk = FakeClock()
    s = StaticScheduler(4, policy=FifoPolicy(hog_us=1000), clock_us=clk.now)

    async def quick():
        while True:
            clk.advance(100)
            await yield_now()

    async def hog():
        clk.advance(300)
        await yield_now()
        clk.advance(5000)  # one poll of 5 ms
        await yield_now()
        clk.advance(100)
        await yield_now()

    q = s.spawn(quick(), "quick")
    h = s.spawn(hog(), "hog")
    for _ in range(6):
        s.tick(1)
    st = s.policy.stats
    assert st.recent_hogs() == [(h.id, "hog", 5000)]
    assert (st.hog_count, st.longest_us, st.longest_id) == (1, 5000, h.id)
    rows = st.report(s)
    assert rows[0] == (h.id, "hog", 3, 5400, 5000, 1)
    assert rows[1] == (q.id, "quick", 3, 300, 100, 0)
    drain(s, 3)
    assert h.is_complete() and h.result() is None
    q.cancel()
    drain(s)
    st.reset()
    assert (st.polls, st.hog_count, st.recent_hogs()) == (0, 0, [])


def test_the_hog_ring_keeps_the_latest():
    st = PollStats(hog_us=10)

    class Slot:
        def __init__(self, i):
            self.id = i
            self.name = "t%d" % i
            self.pol = self  # (a stand-in slot that holds its own policy fields)
            self.polls = 0
            self.run_total_us = 0
            self.run_max_us = 0
            self.hogs = 0

    for i in range(6):
        st.record(Slot(i), 100 + i)
    assert st.recent_hogs() == [(2, "t2", 102), (3, "t3", 103), (4, "t4", 104), (5, "t5", 105)]
    assert st.hog_count == 6


def test_counters_wrap_below_2_30():
    st = PollStats()

    class Slot:
        id = 1
        name = "w"
        polls = (1 << 30) - 1
        run_total_us = (1 << 30) - 10
        run_max_us = 50
        hogs = 0

    sl = Slot()
    sl.pol = sl  # (a stand-in slot that holds its own policy fields)
    st.polls = (1 << 30) - 1
    st.record(sl, 30)
    assert (sl.polls, sl.run_total_us, sl.run_max_us, st.polls) == (1, 20, 50, 0)
    st.record(sl, 60)
    assert (sl.polls, sl.run_total_us, sl.run_max_us) == (2, 80, 60)


def test_every_timed_policy_records_polls():
    for policy in (RoundRobinPolicy(500), CfsPolicy(), PriorityPolicy(slice_us=500),
                   PriorityPolicy(measure=True)):
        clk = FakeClock()
        s = StaticScheduler(2, policy=policy, clock_us=clk.now)
        out = []

        async def run(clk, out):
            for _ in range(4):
                clk.advance(250)
                await yield_now()
            out.append(task_stats(core.current_task()))

        s.spawn(run(clk, out))
        drain(s)
        assert out == [(4, 1000, 250, 0)], policy.name
    assert PriorityPolicy().stats is None and PriorityPolicy().needs_time is False


def test_bad_hog_budgets():
    for bad in (0, -5, "1000", 2.5):
        with raises(PolicyError, "hog_us"):
            FifoPolicy(hog_us=bad)
        with raises(PolicyError, "hog_us"):
            CfsPolicy(hog_us=bad)


def test_switching_policy_needs_an_idle_scheduler():
    s = StaticScheduler(2)
    ev = []

    async def run(name):
        ev.append(name)
        await yield_now()
        ev.append(name)

    h = s.spawn(run("a"))
    with raises(SchedulerBusy, "no live tasks"):
        s.set_policy(PriorityPolicy())
    assert isinstance(s.policy, FifoPolicy)  # unchanged, and the task still runs
    drain(s)
    assert h.is_complete()
    p = PriorityPolicy()
    s.set_policy(p)
    s.build_task().priority(1).spawn(run("lo"))
    s.build_task().priority(3).spawn(run("hi"))
    drain(s)
    assert ev == ["a", "a", "hi", "hi", "lo", "lo"]
    with raises(PolicyError, "one policy object per scheduler"):
        StaticScheduler(2, policy=p)
    s.set_policy(CfsPolicy())
    s.spawn(run("c"))
    drain(s)
    assert ev[-2:] == ["c", "c"]


def test_set_priority_under_fifo_and_round_robin_is_ignored():
    for policy in (FifoPolicy(), RoundRobinPolicy()):
        s = StaticScheduler(2, policy=policy, clock_us=FakeClock().now)

        async def run():
            await yield_now()

        h = s.spawn(run())
        assert s.set_priority(h, 3) is False
        drain(s)
        assert s.set_priority(h, 3) is False  # finished


def test_close_empties_every_policy():
    from gate import Gate

    for policy in (FifoPolicy(), RoundRobinPolicy(), CfsPolicy(), PriorityPolicy()):
        s = StaticScheduler(6, policy=policy, clock_us=FakeClock().now)
        g = Gate()

        async def forever():
            while True:
                await yield_now()

        async def parked(g):
            await g

        hs = [s.spawn(forever()) for _ in range(4)]
        hs.append(s.spawn(parked(g)))
        s.tick(3)
        g.open()  # queued in the wake inbox, not in the policy, when close() runs
        s.close()
        assert all(h.is_cancelled() for h in hs), policy.name
        assert not policy.has_ready() and policy.pick() is None, policy.name


def test_poll_counts_start_again_when_a_measuring_policy_is_bound_again():
    clk = FakeClock()
    s = StaticScheduler(2, policy=RoundRobinPolicy(500), clock_us=clk.now)

    async def three_polls():
        await yield_now()
        await yield_now()

    hs = [s.spawn(three_polls()), s.spawn(three_polls())]
    drain(s)
    assert all(h.is_complete() for h in hs)
    assert [sl.pol.polls for sl in s.slots] == [3, 3]

    async def parent():  # under plain FIFO its child is spawned in line, by tick_fifo,
        await s.spawn(three_polls())  # which resets no poll count (FIFO reads none)

    s.set_policy(FifoPolicy())
    s.run_until_complete(parent())
    assert sorted(sl.pol.polls for sl in s.slots) == [0, 3]  # the child's slot kept its 3
    s.set_policy(RoundRobinPolicy(500))  # bind zeroes them
    assert [sl.pol.polls for sl in s.slots] == [0, 0]
    h = s.spawn(three_polls())
    s.tick(1)
    assert task_stats(h)[0] == 1
    drain(s)
