# Bad inputs a new user tried on the timer side: each raises a ShimejiError subclass whose
# message names the argument and what is expected, and the timer keeps working.
import shimeji
from shimeji import (
    BadArgument,
    BadDuration,
    FakeClock,
    Interval,
    StaticScheduler,
    Timer,
    TimerConfigError,
    TimerEntry,
    sleep_ms,
    sleep_until,
    sleep_us,
    timeout,
)
from support import raises


def _sched():
    clk = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock=clk))
    return s, clk


def _run(s, clk, coro, limit=200):
    h = s.spawn(coro)
    for _ in range(limit):
        s.timer.turn()
        s.tick()
        if h.is_complete():
            return h.result()
        clk.advance(1)
    raise AssertionError("task did not finish")


async def _try(make, log):
    try:
        aw = make()
        await aw
        log.append("accepted")
    except shimeji.ShimejiError as e:
        log.append((type(e).__name__, str(e)))
    await sleep_ms(2)  # the task's timer still works afterwards
    return "slept"


def _refused(make):
    s, clk = _sched()
    log = []
    assert _run(s, clk, _try(make, log)) == "slept"
    assert len(log) == 1 and log[0] != "accepted", log
    return log[0]


async def _quick():
    return 7


def test_sleeps_refuse_durations_that_are_not_ints():
    for make, name, word in (
        (lambda: sleep_ms("5"), "sleep_ms(ms)", "milliseconds"),
        (lambda: sleep_ms(1.5), "sleep_ms(ms)", "sleep_us"),
        (lambda: sleep_ms(None), "sleep_ms(ms)", "milliseconds"),
        (lambda: sleep_ms(True), "sleep_ms(ms)", "milliseconds"),  # bools convert to 1 and 0
        (lambda: sleep_ms(False), "sleep_ms(ms)", "milliseconds"),
        (lambda: sleep_ms(7.0), "sleep_ms(ms)", "milliseconds"),
        (lambda: sleep_us("5"), "sleep_us(us)", "microseconds"),
        (lambda: sleep_until("x"), "sleep_until(deadline)", "timer tick"),
    ):
        kind, msg = _refused(make)
        assert kind == "BadDuration" and name in msg and word in msg, msg


def test_sleep_in_seconds_takes_an_int_or_a_float_and_nothing_else():
    for bad, kind, words in ((None, "BadDuration", "must be an int or float number of seconds"),
                             ("1", "BadDuration", "got '1'"),
                             (True, "BadDuration", "got True"),
                             (float("nan"), "BadDuration", "got nan"),
                             (float("inf"), "DurationTooLong", "give at most 1073741 seconds"),
                             (2 ** 30, "DurationTooLong", "in a loop of shorter sleeps")):
        got, msg = _refused(lambda bad=bad: shimeji.sleep(bad))
        assert got == kind and words in msg and "sleep(" in msg, msg
    s, clk = _sched()

    async def good():
        await shimeji.sleep(0.0015)  # rounded up to 2 ms, never early
        await shimeji.sleep(0)
        return clk() // 1000  # ms of fake time passed

    assert _run(s, clk, good()) >= 2


def test_timeout_refuses_a_non_awaitable_and_a_bad_ms():
    kind, msg = _refused(lambda: timeout(42, 10))
    assert kind == "BadArgument" and "must be an awaitable" in msg and "42" in msg
    kind, msg = _refused(lambda: timeout(shimeji.yield_now(), "x"))
    assert kind == "BadDuration" and "ms must be an int of milliseconds" in msg
    s, clk = _sched()

    async def good():
        return await timeout(_quick(), 10)

    assert _run(s, clk, good()) == 7


def test_interval_timer_and_fake_clock_refuse_bad_arguments():
    with raises(TimerConfigError, "Interval(period_ms) must be an int"):
        Interval("10")
    with raises(TimerConfigError, "Interval(period_us) must be an int"):
        Interval(period_us=2.5)
    with raises(TimerConfigError, "must be a Timer"):
        Interval(10, timer=5)
    with raises(TimerConfigError, "the clock must be a function") as r:
        Timer(clock=5)
    assert "FakeClock()" in str(r.value)
    with raises(TimerConfigError, "FakeClock(start_us) must be an int"):
        FakeClock("x")
    with raises(TimerConfigError, "FakeClock(tick_us) must be an int"):
        FakeClock(0, tick_us=0.5)
    clk = FakeClock()
    with raises(BadDuration, "advance_us(us)"):
        clk.advance_us("3")
    assert clk.advance(2) == 2000  # still works
    s, clk = _sched()
    iv = Interval(3)

    async def ticking():
        for _ in range(3):
            await iv
        return iv.count

    assert _run(s, clk, ticking()) == 3


def test_every_arm_checks_its_entry_and_its_duration():
    clk = FakeClock()
    t = Timer(clock=clk)
    fired = []
    e = TimerEntry(callback=lambda entry: fired.append(t.now()))
    for method, good in ((t.arm_ms, 5), (t.arm_us, 5000), (t.arm_ticks, 5), (t.arm_at, 5),
                         (t.wheel.arm, 5), (t.wheel.arm_after, 5)):
        with raises(BadArgument, "must be a TimerEntry") as r:
            method("x", good)
        assert "'x'" in str(r.value)
        with raises(BadDuration, "must be an int"):
            method(e, "5")
        with raises(BadDuration, "must be an int"):
            method(e, 1.5)
        assert not e.is_armed()
    t.arm_ms(e, 5)  # and then it works
    for _ in range(6):
        clk.advance(1)
        t.turn()
    assert fired == [5]


def test_after_ms_and_a_fake_clock_refuse_what_would_make_a_wrong_tick():
    # Session 25's audit: timer.after_ms(1.5) returned a float (2.5), which sleep_until then
    # refused far from the mistake; FakeClock.advance(-1) moved the clock to -1000, no tick at
    # all (ticks are ints in [0, 2**30)). Both are refused before anything moved.
    clk = FakeClock()
    t = Timer(clock=clk)
    for bad in (1.5, "5", None):
        with raises(BadDuration, "after_ms(ms) must be an int"):
            t.after_ms(bad)
    assert t.after_ms(3) == 3 and t.after_ms(-1) == 0  # (a past deadline: the next turn)
    for bad in (-1, -1000):
        with raises(BadDuration, "a FakeClock only moves on"):
            clk.advance(bad)
        with raises(BadDuration, "a FakeClock only moves on"):
            clk.advance_us(bad)
    with raises(BadDuration, "advance(n) must be an int"):
        clk.advance(1.5)
    assert clk.advance(0) == 0 and clk.advance(2) == 2000  # (nothing moved before)
    s, clk = _sched()

    async def until():
        await sleep_until(s.timer.after_ms(3))
        return s.timer.now()

    assert _run(s, clk, until()) >= 3
