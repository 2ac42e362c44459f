# A Timer as the loops drive it: Interval (drift-free, missed periods), run_until_complete
# turning the timer and idling to the next deadline, a timer interrupt from another thread
# while the loop runs, a ticks_ms clock of 2 ms ticks, and a clock that steps back.
from irqsource import InterruptSource, again, needs_interrupt_source
from shimeji import (
    FakeClock,
    Interval,
    StaticScheduler,
    Timer,
    TimerConfigError,
    sleep_ms,
    sleep_us,
)
from support import raises, wait_until
from timerhelp import MASK, drive, make, since, sleeper


def test_interval_is_drift_free_and_counts_missed_periods():
    clock, timer, s = make(MASK - 15_000)
    log = []

    async def sampler():
        iv = Interval(10)
        t0 = clock()
        for i in range(6):
            await iv
            log.append((since(clock, t0) // 1000, iv.missed))
            clock.advance_us(3000)  # the work takes 3 ms
            if i == 2:
                clock.advance_us(31_000)  # a stall: deadlines 40, 50 and 60 pass

    s.spawn(sampler())
    drive(clock, timer, s, 1000, 120_000)
    assert log == [(10, 0), (20, 0), (30, 0), (64, 2), (70, 2), (80, 2)]


def test_interval_period_must_be_whole_ticks():
    clock, timer, s = make()
    with raises(TimerConfigError, match="whole number"):
        Interval(period_us=1500, timer=timer)
    with raises(TimerConfigError, match="positive period"):
        Interval(0)
    iv = Interval(period_us=2000, timer=timer)
    assert iv.period == 2


def test_run_until_complete_turns_the_timer_and_idles_to_the_next_deadline():
    clock, timer, s = make(MASK - 5000)
    idles = []

    def idle():
        idles.append(clock.jump(timer))

    async def main():
        await sleep_ms(7)
        await sleep_us(2500)
        return "done"

    assert s.run_until_complete(main(), idle=idle) == "done"
    assert idles == [7000, 3000]


def test_run_until_complete_default_idle_really_sleeps():
    s = StaticScheduler(2, timer=Timer())

    async def main():
        await sleep_ms(3)
        return 1

    assert s.run_until_complete(main()) == 1


@needs_interrupt_source
def test_interrupt_from_a_thread_while_the_loop_runs():
    # A thread calls timer.interrupt over and over (a hard timer interrupt, each ms, on a board
    # without a second thread).
    clock, timer, s = make()
    repeat = again()

    def isr_substitute():
        timer.interrupt(None)
        return repeat

    log = []
    s.spawn(sleeper(log, clock, "x", 2, 20))
    src = InterruptSource(isr_substitute).start()
    try:
        for _ in range(1000):  # 20 sleeps of 4 steps each, and a bound: never a hang
            if len(log) >= 20:
                break
            timer.turn()
            s.tick()
            # the loop moves on only when the "interrupt" says so (a bounded wait for it)
            wait_until(lambda: timer.pending, "the interrupt thread to call timer.interrupt")
            clock.advance_us(500)
    finally:
        src.stop()
    assert log == [("x", 2000)] * 20
    assert timer.interrupts > 0


def test_a_ticks_ms_clock_drives_a_timer_of_2_ms_ticks():
    ms_clock = FakeClock(MASK - 7)  # counts milliseconds here: advance_us(1) is 1 ms
    timer = Timer(ms_clock, 2000, clock_unit_us=1000)
    s = StaticScheduler(2, timer=timer)
    log = []

    async def main():
        for ms in (4, 5, 1):
            start = ms_clock()
            await sleep_ms(ms)
            log.append((ms, (ms_clock() - start) & MASK))

    s.spawn(main())
    for _ in range(40):
        timer.turn()
        s.tick()
        ms_clock.advance_us(1)
    assert log == [(4, 4), (5, 6), (1, 2)]


def test_a_clock_that_steps_back_loses_no_time_and_wakes_no_one_early():
    # qemu's ticks_us steps back by up to 1 ms; that must not read as 2**30 µs passing.
    from shimeji import FakeClock, StaticScheduler, Timer, sleep_ms

    clock = FakeClock((1 << 30) - 3_000)
    timer = Timer(clock)
    s = StaticScheduler(2, timer=timer)
    woke = []

    async def sleeper():
        await sleep_ms(5)
        woke.append(timer.now())

    s.spawn(sleeper())
    s.tick()
    start = timer.now()
    clock.advance_us(2_000)
    timer.turn()
    clock.t = (clock.t - 700) & ((1 << 30) - 1)  # the source steps back
    turn = timer.turn()
    assert turn.expired == 0 and woke == []
    for _ in range(10):
        clock.advance_us(1_000)
        timer.turn()
        s.tick()
    assert len(woke) == 1
    assert (woke[0] - start) & ((1 << 30) - 1) >= 5
