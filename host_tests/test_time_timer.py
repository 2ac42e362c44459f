# Clock, Timer and the task API (sleeps, sleep_until) on a StaticScheduler, driven by a fake
# clock. Every wake-up time is recorded and the whole list asserted. Intervals and the loops
# that drive a timer: test_time_timer_driven.py.
from shimeji import (
    MAX_TICKS,
    Clock,
    DurationTooLong,
    FakeClock,
    NoTimer,
    StaticScheduler,
    Timer,
    TimerConfigError,
    TimerEntry,
    sleep_ms,
    sleep_until,
    sleep_us,
    wrap_add,
    wrap_diff,
)
from support import raises
from timerhelp import MASK, drive, make, since, sleeper


def test_wrap_helpers_stay_in_range():
    assert wrap_add(MASK, 1) == 0
    assert wrap_add(MASK, MASK) == MASK - 1
    assert wrap_add(5, 7) == 12
    assert wrap_diff(3, MASK - 2) == 6
    assert wrap_diff(MASK - 2, 3) == -6
    assert wrap_diff(1 << 29, 0) == -(1 << 29)
    assert wrap_diff((1 << 29) - 1, 0) == (1 << 29) - 1


def test_clock_converts_durations_rounding_up():
    c = Clock(FakeClock(), 1000)
    assert (c.ticks_for_ms(0), c.ticks_for_ms(7), c.ticks_for_us(1), c.ticks_for_us(1000),
            c.ticks_for_us(1001), c.ticks_for_ms(-5)) == (0, 7, 1, 1, 2, 0)
    c = Clock(FakeClock(), 250)
    assert (c.ticks_for_ms(3), c.ticks_for_us(251)) == (12, 2)
    c = Clock(FakeClock(), 10000)
    assert (c.ticks_for_ms(10), c.ticks_for_ms(11), c.ticks_for_us(9999)) == (1, 2, 1)
    c = Clock(FakeClock(), 1)
    assert c.ticks_for_ms(2) == 2000
    assert c.us_for_ticks(MAX_TICKS) == MAX_TICKS


def test_durations_beyond_the_maximum_raise_naming_it():
    c = Clock(FakeClock(), 1)
    with raises(DurationTooLong, match="at most 536870911 ticks of 1 µs (536870 ms)"):
        c.ticks_for_ms(536871)
    assert c.ticks_for_ms(536870) == 536870000
    c = Clock(FakeClock(), 1000)
    with raises(DurationTooLong, match="536870911 ms"):
        c.ticks_for_us(1 << 40)


def test_bad_tick_sizes_are_refused_with_advice():
    for bad in (0, 3, 1500, 300):
        with raises(TimerConfigError, match="tick_us"):
            Timer(FakeClock(), bad)
    with raises(TimerConfigError, match="multiple of the clock's unit"):
        Timer(FakeClock(), 500, clock_unit_us=1000)
    t = Timer(FakeClock(), 2000, clock_unit_us=1000)  # a ticks_ms clock, 2 ms ticks
    assert t.clock.per == 2


def test_fake_clock_advances_by_ticks_and_jumps_to_the_next_deadline():
    clock = FakeClock(MASK - 1500, 1000)
    timer = Timer(clock)
    assert clock.jump(timer) == -1
    e = TimerEntry()
    timer.arm_ms(e, 5)
    clock.advance(2)
    assert timer.next_in_us() == 3000
    assert clock.jump(timer) == 3000
    assert timer.turn().expired == 1
    assert clock() == 3499 and not e.is_armed()  # wrapped: 2**30 - 1501 + 5000 µs


def test_turn_counts_whole_ticks_and_keeps_the_remainder():
    clock = FakeClock(MASK - 700, 1000)
    timer = Timer(clock)
    events = []
    for ms in (1, 2, 3):
        e = TimerEntry(callback=lambda entry: events.append((entry.key, timer.wheel.now)))
        e.key = ms
        timer.arm_ms(e, ms)
    clock.advance_us(1500)
    t = timer.turn()
    assert (t.now, t.elapsed, t.expired, t.next_in_us) == (1, 1, 1, 500)
    clock.advance_us(500)
    t = timer.turn()
    assert (t.now, t.elapsed, t.expired, t.next_in_us) == (2, 1, 1, 1000)
    clock.advance_us(999)
    assert timer.turn().expired == 0 and timer.now() == 2
    clock.advance_us(1)
    t = timer.turn()
    assert (t.expired, t.next_in_us) == (1, -1)
    assert events == [(1, 1), (2, 2), (3, 3)]


def test_an_entry_armed_mid_tick_never_fires_early():
    clock = FakeClock(0, 1000)
    timer = Timer(clock)
    e = TimerEntry()
    clock.advance_us(999)  # not turned: the wheel still says tick 0
    timer.arm_ms(e, 1)
    armed_at = clock()
    while e.is_armed():
        clock.advance_us(1)
        timer.turn()
    assert clock() - armed_at == 1001  # the first tick boundary at or after 999 + 1000 µs


def test_tasks_sleep_in_deadline_order_and_never_wake_early():
    clock, timer, s = make(MASK - 2_500_000)  # starts 2.5 s before the µs clock wraps
    log = []
    s.spawn(sleeper(log, clock, "a", 3, 2))
    s.spawn(sleeper(log, clock, "b", 5, 1))
    s.spawn(sleeper(log, clock, "c", 1, 1))
    drive(clock, timer, s, 250, 10_000)
    # the first sleeps start at fake time 0; each wakes at the first turn at or after its end
    assert log == [("c", 1000), ("a", 3000), ("b", 5000), ("a", 3000)]
    assert timer.wheel.pending == 0


def test_sleep_rounds_up_a_partial_tick():
    clock, timer, s = make(0)
    log = []

    async def late_start():
        clock.advance_us(400)  # the task starts 0.4 ms into a tick
        start = clock()
        await sleep_ms(2)
        log.append(since(clock, start))

    s.spawn(late_start())
    drive(clock, timer, s, 100, 5000)
    assert log == [2600]  # never early; late by the rest of the tick


def test_sleep_us_with_microsecond_ticks_and_sleep_zero():
    clock, timer, s = make(MASK - 40, tick_us=1)
    log = []

    async def main():
        start = clock()
        await sleep_us(75)
        log.append(since(clock, start))
        start = clock()
        await sleep_ms(0)
        log.append(since(clock, start))

    s.spawn(main())
    drive(clock, timer, s, 5, 200)
    assert log == [75, 5]


def test_sleep_until_an_absolute_tick_and_a_past_one():
    clock, timer, s = make(MASK - 3000)
    log = []

    async def main():
        d = timer.after_ms(4)
        await sleep_until(d)
        log.append(("at", timer.now() == d))
        await sleep_until(wrap_add(d, MASK - 9))  # 10 ticks in the past: the next turn
        log.append(("past", timer.now() == wrap_add(d, 1)))  # the turn after

    s.spawn(main())
    drive(clock, timer, s, 1000, 8000)
    assert log == [("at", True), ("past", True)]


def test_a_deadline_passed_before_the_timer_turns_fires_in_deadline_order():
    # arm_at of a deadline the clock has passed but the wheel (not turned since) has not: it
    # went to the due list, which fires first, ahead of earlier deadlines still in their
    # slots. asyncio's timeout() arms that way; on the classic ESP32 in qemu (a collection
    # between computing its deadline and arming it) it cancelled its task before a sleep due
    # a tick earlier woke the task that was to cancel it (test_asyncio_cpython_tasks).
    clock = FakeClock(0, 1000)
    timer = Timer(clock)
    fired = []

    def entry(key):
        e = TimerEntry(callback=lambda en: fired.append((en.key, timer.wheel.now)))
        e.key = key
        return e

    timer.arm_at(entry("due at 22, armed first"), 22)
    clock.advance_us(26_500)  # not turned: the wheel still says tick 0, the clock 26
    timer.arm_at(entry("due at 23, armed at 26"), 23)
    timer.arm_at(entry("due at 10, armed at 26"), 10)
    timer.arm_at(entry("due at 30"), 30)
    timer.turn()
    assert fired == [("due at 10, armed at 26", 10), ("due at 22, armed first", 22),
                     ("due at 23, armed at 26", 23)]
    timer.arm_at(entry("due at 20, armed at 26 after the turn"), 20)  # behind the wheel too
    clock.advance_us(1000)
    timer.turn()
    assert [k for k, _ in fired[3:]] == ["due at 20, armed at 26 after the turn"]  # next turn
    clock.advance_us(3000)
    timer.turn()
    assert fired[4:] == [("due at 30", 30)]


def test_cancelling_a_sleeping_task_removes_its_entry_at_once():
    clock, timer, s = make()
    log = []
    h = s.spawn(sleeper(log, clock, "x", 50, 1))
    s.tick()
    assert timer.wheel.pending == 1
    assert h.cancel()
    assert timer.wheel.pending == 0  # before the task even runs again
    drive(clock, timer, s, 1000, 3000)
    assert h.is_cancelled() and log == []


def test_a_sleep_without_a_timer_says_how_to_attach_one():
    s = StaticScheduler(2)
    h = s.spawn(sleeper([], FakeClock(), "x", 1, 1))
    s.tick()
    with raises(NoTimer, match="StaticScheduler(timer=Timer())"):
        h.result()
    clock = FakeClock()
    s.timer = Timer(clock)
    log = []
    s.spawn(sleeper(log, clock, "y", 2, 1))
    drive(clock, s.timer, s, 1000, 3000)
    assert log == [("y", 2000)]


def test_too_long_a_sleep_raises_in_the_task_and_nothing_is_armed():
    clock, timer, s = make(tick_us=1)
    h = s.spawn(sleeper([], clock, "x", 10 ** 6, 1))
    s.tick()
    with raises(DurationTooLong, match="536870 ms"):
        h.result()
    assert timer.wheel.pending == 0
