# The trace ring: a scripted scenario under the fake clock records exactly the expected
# events; a full ring overwrites its oldest records and counts them exactly; misuse raises.
from shimeji import (
    Event,
    FakeClock,
    InvalidCapacity,
    RoundRobinPolicy,
    SchedulerBusy,
    StaticScheduler,
    Timer,
    Trace,
    TraceError,
    sleep_ms,
    yield_now,
)
from shimeji.trace import kinds as K
from support import raises


def make(size=64, policy=None, side=32, start_us=0):
    clk = FakeClock(start_us, 1000)
    timer = Timer(clk, 1000)
    s = StaticScheduler(8, policy=policy, clock_us=clk, timer=timer)
    return clk, timer, s, Trace(size, side=side).attach(s)


def scenario(policy=None):
    """Four tasks: a sleeper, a waiter on an Event, a setter woken from the run loop that
    sets the Event and then fails, and a joiner of the sleeper."""
    clk, timer, s, tr = make(policy=policy)
    ev = Event()
    go = Event()

    async def sleeper():
        clk.advance_us(5)
        await sleep_ms(2)
        clk.advance_us(7)
        return 1

    async def waiter():
        await ev.wait()
        clk.advance_us(3)

    async def setter():
        await go.wait()
        clk.advance_us(4)
        ev.set()
        await yield_now()
        raise ValueError("boom")

    async def joiner(h):
        await h

    hs = s.spawn(sleeper(), "sleeper")
    s.spawn(waiter(), "waiter")
    s.spawn(setter(), "setter")
    s.spawn(joiner(hs), "joiner")
    s.tick()
    clk.advance_us(100)
    go.set()  # from the run loop, as an interrupt handler would: an external wake
    s.tick()
    clk.advance_us(3000)
    timer.turn()
    s.tick()
    return tr


EXPECTED = [
    (0, K.SPAWN, 1, 0),
    (0, K.SPAWN, 2, 0),
    (0, K.SPAWN, 3, 0),
    (0, K.SPAWN, 4, 0),
    (0, K.POLL_BEGIN, 1, 0),
    (5, K.POLL_END, 1, K.END_PARK),
    (5, K.PARK, 1, K.PARK_TIMER),
    (5, K.POLL_BEGIN, 2, 0),
    (5, K.POLL_END, 2, K.END_PARK),
    (5, K.PARK, 2, K.PARK_PRIMITIVE),
    (5, K.POLL_BEGIN, 3, 0),
    (5, K.POLL_END, 3, K.END_PARK),
    (5, K.PARK, 3, K.PARK_PRIMITIVE),
    (5, K.POLL_BEGIN, 4, 0),
    (5, K.POLL_END, 4, K.END_PARK),
    (5, K.PARK, 4, K.PARK_JOIN),
    (105, K.WAKE_EXTERNAL, 3, 0),
    (105, K.POLL_BEGIN, 3, 0),
    (109, K.POLL_END, 3, K.END_YIELD),
    (109, K.WAKE_TASK, 2, 3),  # a wake a poll made follows its POLL_END
    (109, K.POLL_BEGIN, 2, 0),  # FIFO: the woken waiter goes before the setter's yield
    (112, K.POLL_END, 2, K.END_DONE),
    (112, K.COMPLETE, 2, 0),
    (112, K.POLL_BEGIN, 3, 0),
    (112, K.POLL_END, 3, K.END_DONE),
    (112, K.FAIL, 3, 0),
    (3112, K.TIMER_FIRE, 0, 1),
    (3112, K.WAKE_TIMER, 1, 0),
    (3112, K.POLL_BEGIN, 1, 0),
    (3119, K.POLL_END, 1, K.END_DONE),
    (3119, K.COMPLETE, 1, 0),
    (3119, K.WAKE_TASK, 4, 1),  # the sleeper's completion wakes its joiner
    (3119, K.POLL_BEGIN, 4, 0),
    (3119, K.POLL_END, 4, K.END_DONE),
    (3119, K.COMPLETE, 4, 0),
]


def test_fifo_scenario_records_exactly_the_expected_events():
    tr = scenario()
    assert tr.records() == EXPECTED
    assert (len(tr), tr.dropped) == (len(EXPECTED), 0)
    assert [tr.name_of(i) for i in (1, 2, 3, 4, 5)] == [
        "sleeper", "waiter", "setter", "joiner", None]


def test_general_path_records_the_same_events_for_round_robin():
    # Round-robin runs the general tick: the same polls, in the same order here, with the
    # begin of each poll read from the clock rather than taken from the previous poll's end.
    assert scenario(RoundRobinPolicy(slice_us=100000)).records() == EXPECTED


def test_full_ring_overwrites_the_oldest_and_counts_exactly():
    clk, timer, s, tr = make(size=8)
    for v in range(20):
        clk.advance_us(1)
        tr.mark(v)
    assert len(tr) == 8 and tr.dropped == 12
    assert tr.records() == [(v + 1, K.MARK, 0, v) for v in range(12, 20)]
    tr.clear()
    assert (len(tr), tr.dropped, tr.records()) == (0, 0, [])


def test_polls_overwriting_the_ring_keep_pairs_in_order():
    clk, timer, s, tr = make(size=5)

    async def spinner():
        for _ in range(3):
            clk.advance_us(10)
            await yield_now()

    s.spawn(spinner(), "spin")
    while s.tick().polled:
        pass
    # 1 spawn + 4 polls x 2 + complete = 10 records; the ring keeps the last 5.
    assert tr.dropped == 5
    assert tr.records() == [
        (20, K.POLL_BEGIN, 1, 0),
        (30, K.POLL_END, 1, K.END_YIELD),
        (30, K.POLL_BEGIN, 1, 0),
        (30, K.POLL_END, 1, K.END_DONE),
        (30, K.COMPLETE, 1, 0),
    ]


def test_records_a_poll_makes_go_between_its_begin_and_end():
    clk, timer, s, tr = make(size=6)

    async def child():
        pass

    async def parent():
        clk.advance_us(2)
        s.spawn(child(), "c1")
        s.spawn(child(), "c2")
        clk.advance_us(2)
        await yield_now()
        s.spawn(child(), "c3")

    s.spawn(parent())
    tr.clear()
    s.tick(1)
    assert tr.records() == [
        (0, K.POLL_BEGIN, 1, 0), (2, K.SPAWN, 2, 1), (2, K.SPAWN, 3, 1),
        (4, K.POLL_END, 1, K.END_YIELD)]
    s.tick(1)  # c1 went ahead of its parent's yield: 3 more records, the oldest dropped
    assert tr.records() == [
        (2, K.SPAWN, 2, 1), (2, K.SPAWN, 3, 1), (4, K.POLL_END, 1, K.END_YIELD),
        (4, K.POLL_BEGIN, 2, 0), (4, K.POLL_END, 2, K.END_DONE), (4, K.COMPLETE, 2, 0)]
    assert len(tr) == 6 and tr.dropped == 1
    s.tick(2)  # c2, then the parent: its spawn goes between its begin and end
    assert tr.records()[2:] == [
        (4, K.POLL_BEGIN, 1, 0), (4, K.SPAWN, 4, 1), (4, K.POLL_END, 1, K.END_DONE),
        (4, K.COMPLETE, 1, 0)]
    while s.tick().polled:  # the children run and finish
        pass
    assert s.live_count() == 0


def test_side_ring_overflow_counts_the_lost_wakes():
    clk, timer, s, tr = make(side=4)
    ev = Event()

    async def waiter():
        await ev.wait()

    for _ in range(6):
        s.spawn(waiter())
    s.tick()
    tr.clear()
    for i in range(6):  # six external wakes before the next tick: the side ring keeps four
        clk.advance_us(1)
        s.wake(s.slots[i])
    s.tick(0)
    assert tr.dropped == 2
    assert tr.records() == [(3 + i, K.WAKE_EXTERNAL, 3 + i, 0) for i in range(4)]


def test_timestamps_wrap_below_2_to_the_30():
    clk, timer, s, tr = make(start_us=(1 << 30) - 3)
    for _ in range(4):
        tr.mark(1)
        clk.advance_us(2)
    assert [r[0] for r in tr.records()] == [(1 << 30) - 3, (1 << 30) - 1, 1, 3]


def test_misuse_raises_and_changes_nothing():
    for bad in (0, 1, -5, "512", 1 << 21):
        with raises(InvalidCapacity, "size"):
            Trace(bad)
    with raises(InvalidCapacity, "side"):
        Trace(8, side=0)
    clk, timer, s, tr = make()
    with raises(TraceError, "already has a trace"):
        Trace(8).attach(s)
    other = StaticScheduler(2)
    with raises(TraceError, "another scheduler"):
        tr.attach(other)
    with raises(TraceError, "mark(value)"):
        tr.mark(-1)
    with raises(TraceError, "mark(value)"):
        tr.mark(1 << 30)
    seen = []
    plain = StaticScheduler(2)

    async def detach_inside():
        try:
            tr.detach()
        except SchedulerBusy:
            seen.append("detach")

    async def attach_inside():
        try:
            Trace(8).attach(plain)
        except SchedulerBusy:
            seen.append("attach")

    s.spawn(detach_inside())
    s.tick()
    plain.spawn(attach_inside())
    plain.tick()
    assert seen == ["detach", "attach"]
    assert s._trace is tr and plain._trace is None
    tr.detach()
    assert s._trace is None and timer.trace is None
    n = len(tr)

    async def quick():
        await yield_now()

    s.spawn(quick())  # untraced now: nothing more is recorded, everything still works
    while s.tick().polled:
        pass
    assert len(tr) == n
    assert Trace(8).attach(s).sched is s


def test_record_isr_goes_through_the_side_ring_in_time_order():
    clk, timer, s, tr = make(side=2)

    async def poller():
        await yield_now()

    s.spawn(poller(), "p")
    tr.clear()
    clk.advance_us(5)
    tr.record_isr(K.IO_READY, 1, 7)  # as an interrupt handler would: not in the ring yet
    assert tr.records() == [(5, K.IO_READY, 1, 7)]  # reading moves it (scheduler context)
    for i in range(3):  # three into a side ring of two: the oldest is lost, and counted
        tr.record_isr(K.CROSS_CORE_WAKE, 1, i)
    s.tick(1)
    assert tr.dropped == 1
    assert tr.records() == [
        (5, K.IO_READY, 1, 7), (5, K.CROSS_CORE_WAKE, 1, 1), (5, K.CROSS_CORE_WAKE, 1, 2),
        (5, K.POLL_BEGIN, 1, 0), (5, K.POLL_END, 1, K.END_YIELD)]


def test_preemption_hogs_and_deadline_misses_are_recorded():
    from shimeji import Interval, Timeout, preempt_point, timeout

    clk, timer, s, tr = make(policy=RoundRobinPolicy(slice_us=100, hog_us=150))

    async def cruncher():
        clk.advance_us(120)
        await preempt_point()  # its slice is used up and another task is ready: it yields
        clk.advance_us(200)  # a hog poll
        await yield_now()

    async def impatient():
        try:
            await timeout(sleep_ms(10), 2)
        except Timeout:
            pass
        iv = Interval(1)
        await iv
        clk.advance_us(3000)  # late: the next await finds two deadlines past
        await iv

    s.spawn(cruncher(), "cruncher")
    s.spawn(impatient(), "impatient")
    for _ in range(6):
        timer.turn()
        s.tick()
        clk.advance_us(1000)
    assert tr.records() == [
        (0, K.SPAWN, 1, 0),
        (0, K.SPAWN, 2, 0),
        (0, K.POLL_BEGIN, 1, 0),
        (120, K.PREEMPT, 1, 0),
        (120, K.POLL_END, 1, K.END_YIELD),
        (120, K.POLL_BEGIN, 2, 0),
        (120, K.POLL_END, 2, K.END_PARK),
        (120, K.PARK, 2, K.PARK_TIMER),
        (120, K.POLL_BEGIN, 1, 0),
        (320, K.HOG, 1, 200),
        (320, K.POLL_END, 1, K.END_YIELD),
        (320, K.POLL_BEGIN, 1, 0),
        (320, K.POLL_END, 1, K.END_DONE),
        (320, K.COMPLETE, 1, 0),
        (3320, K.TIMER_FIRE, 0, 1),
        (3320, K.DEADLINE_MISS, 2, 2),  # the 2 ms timeout
        (3320, K.WAKE_TIMER, 2, 0),
        (3320, K.POLL_BEGIN, 2, 0),
        (3320, K.POLL_END, 2, K.END_PARK),
        (3320, K.PARK, 2, K.PARK_TIMER),
        (4320, K.TIMER_FIRE, 0, 1),
        (4320, K.WAKE_TIMER, 2, 0),
        (4320, K.POLL_BEGIN, 2, 0),
        (7320, K.INTERVAL_MISS, 2, 2),
        (7320, K.HOG, 2, 3000),
        (7320, K.POLL_END, 2, K.END_DONE),
        (7320, K.COMPLETE, 2, 0),
    ]
