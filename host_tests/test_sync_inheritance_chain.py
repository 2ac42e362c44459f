# Priority inheritance that follows the waiters: a waiter that leaves (cancelled) takes its loan
# with it at once, a holder of two locks keeps the loan of the one it still holds, and a loan
# passes along a chain of locks (A waits on B's lock while B waits on C's: C runs at A's level).
from shimeji import CfsPolicy, Mutex, PriorityPolicy, StaticScheduler, yield_now
from shimeji.core import current_slot
from support import FakeClock


def _drain(s):
    while s.tick().has_remaining:
        pass


def test_a_cancelled_waiter_takes_its_loan_with_it():
    s = StaticScheduler(4, policy=PriorityPolicy(levels=8))
    m = Mutex()
    seen = []

    async def holder():
        me = current_slot()
        async with m:
            for _ in range(4):
                seen.append(("holder", me.priority))
                await yield_now()

    async def waiter():
        async with m:
            seen.append("waiter got")

    s.build_task().priority(1).spawn(holder())
    s.tick(1)
    w = s.build_task().priority(6).spawn(waiter())
    s.tick(2)  # the waiter parks on the lock; the holder runs at 6
    w.cancel()
    _drain(s)
    assert seen == [("holder", 1), ("holder", 6), ("holder", 1), ("holder", 1)]
    assert w.is_cancelled() and not m.locked()


def test_a_cancelled_waiter_no_longer_lets_the_holder_run_before_a_busier_task():
    s = StaticScheduler(4, policy=PriorityPolicy(levels=8))
    m = Mutex()
    log = []

    async def low():
        async with m:
            for i in range(3):
                log.append("low %d" % i)
                await yield_now()

    async def high():
        async with m:
            log.append("high got")

    async def medium():
        for i in range(2):
            log.append("med %d" % i)
            await yield_now()

    s.build_task().priority(1).spawn(low())
    s.tick(1)
    h = s.build_task().priority(7).spawn(high())
    s.tick(2)  # high parks; low runs lent 7
    h.cancel()
    s.build_task().priority(4).spawn(medium())
    _drain(s)
    assert log == ["low 0", "low 1", "med 0", "med 1", "low 2"]


def test_releasing_one_lock_keeps_the_loan_of_another_still_held():
    s = StaticScheduler(4, policy=PriorityPolicy(levels=8))
    m1 = Mutex()
    m2 = Mutex()
    seen = []

    async def holder():
        me = current_slot()
        await m1.lock()
        await m2.lock()
        await yield_now()  # both waiters park
        await yield_now()
        seen.append(("both", me.priority))
        m1.unlock()  # the level-7 waiter gets m1; the level-5 one still waits on m2
        seen.append(("m2 only", me.priority))
        await yield_now()
        m2.unlock()
        seen.append(("none", me.priority))

    async def on(m, name):
        async with m:
            seen.append(name)

    s.build_task().priority(1).spawn(holder())
    s.tick(1)
    s.build_task().priority(5).spawn(on(m2, "w5"))
    s.tick(1)  # w5 parks on m2 (the holder runs at 5 now)
    s.build_task().priority(7).spawn(on(m1, "w7"))
    _drain(s)
    assert seen == [("both", 7), ("m2 only", 5), "w7", ("none", 1), "w5"]


def _stepping_clock(step_us):
    """A clock that moves ``step_us`` at every read (a step < 0: one that steps back)."""
    clk = FakeClock(1 << 20)

    def now():
        return clk.advance(step_us)

    return now


def _chain(policy, levels, clock_us=None):
    """C holds lc; B holds lb and waits on lc; A waits on lb; M is busy in between."""
    low_level, b_level, med_level, a_level = levels
    s = StaticScheduler(5, policy=policy, clock_us=clock_us)
    lb = Mutex()
    lc = Mutex()
    log = []

    async def task_c():
        me = current_slot()
        async with lc:
            for i in range(4):
                log.append(("C", i, me.priority))
                await yield_now()
        log.append("C released")

    async def task_b():
        async with lb:
            async with lc:  # parks at once: C is lent B's level before A arrives
                log.append("B got lc")
        log.append("B released")

    async def task_a():
        async with lb:
            log.append("A got lb")

    async def task_m():
        for i in range(3):
            log.append(("M", i))
            await yield_now()

    s.build_task().priority(low_level).spawn(task_c())
    s.tick(1)  # C takes lc
    s.build_task().priority(b_level).spawn(task_b())
    s.tick(1)  # B takes lb and parks on lc
    a = s.build_task().priority(a_level).spawn(task_a())
    s.build_task().priority(med_level).spawn(task_m())
    return s, a, log


def test_a_loan_passes_along_a_chain_of_locks():
    s, a, log = _chain(PriorityPolicy(levels=8), (1, 3, 5, 7))
    _drain(s)
    # A (7) waits on B's lock, B on C's: C runs at 7 ahead of M (5), releases, then B, A.
    assert log == [
        ("C", 0, 1), ("C", 1, 7), ("C", 2, 7), ("C", 3, 7), "C released", "B got lc",
        "B released", "A got lb", ("M", 0), ("M", 1), ("M", 2),
    ]


def test_a_chain_loan_ends_when_its_source_leaves():
    s, a, log = _chain(PriorityPolicy(levels=8), (1, 3, 5, 7))
    s.tick(2)  # A parks on lb (B is lent 7, and through B, C), C runs at 7
    a.cancel()  # C falls back to B's 3: M (5) runs first
    _drain(s)
    assert log == [
        ("C", 0, 1), ("C", 1, 7), ("M", 0), ("M", 1), ("M", 2), ("C", 2, 3), ("C", 3, 3),
        "C released", "B got lc", "B released",
    ]


def test_cfs_passes_a_nice_value_along_a_chain():
    # The staging needs C's first poll charged (C then queues behind the new B): a clock that
    # moves at every read. A board's ticks_us may not move over a poll (qemu's stands still in
    # the last µs of each ms, and steps back): then B and C tie, as in the next test.
    s, a, log = _chain(CfsPolicy(), (19, 10, 0, -20), _stepping_clock(100))
    _drain(s)
    # C (nice 19) is 100 µs * 1024 / 15 ahead, so M (0) runs first; C then runs lent A's -20.
    assert log == [
        ("C", 0, 19), ("M", 0), ("M", 1), ("M", 2), ("C", 1, -20), ("C", 2, -20), ("C", 3, -20),
        "C released", "B got lc", "B released", "A got lb",
    ]


def test_cfs_chain_on_a_clock_that_stands_still_or_steps_back():
    # Every poll measured 0 µs (or less, charged as 0): virtual run times tie and the queue's
    # order decides; C runs again before B first, and the loan still passes along the chain.
    logs = []
    for step in (0, -955):
        s, a, log = _chain(CfsPolicy(), (19, 10, 0, -20), _stepping_clock(step))
        _drain(s)
        assert s.live_count() == 0 and a.is_complete()
        assert s.policy.min_vruntime == 0
        logs.append(log)
    assert logs[0] == logs[1] == [
        ("C", 0, 19), ("C", 1, 19), ("C", 2, 10), ("M", 0), ("C", 3, -20), ("M", 1),
        "C released", ("M", 2), "B got lc", "B released", "A got lb",
    ]
