# A spurious wake (core.wake on a sleeping task, as any waker may send) must not end a sleep,
# a sleep_until or an Interval wait before its deadline: each parks again until its own timer
# entry fires. Every resume time is recorded and the whole list asserted.
from shimeji import (
    FakeClock,
    Interval,
    StaticScheduler,
    Timer,
    core,
    sleep_ms,
    sleep_until,
    sleep_us,
)


def _run(make_wait, ticks=12):
    """Run one task awaiting ``make_wait(timer)`` twice; wake it spuriously on every turn.
    Returns the timer ticks at which each await returned."""
    clock = FakeClock(0, 1000)
    timer = Timer(clock, 1000)
    s = StaticScheduler(2, timer=timer)
    log = []
    slots = []

    async def sleeper():
        slots.append(core.current_slot())
        for _ in range(2):
            await make_wait(timer)
            log.append(timer.now())

    s.spawn(sleeper())
    for _ in range(ticks):
        timer.turn()
        s.tick()
        if slots:
            core.wake(slots[0])  # spurious: the task's deadline has not come
            s.tick()
        clock.advance_us(1000)
    return log


def test_sleep_ms_ignores_a_spurious_wake():
    assert _run(lambda timer: sleep_ms(4)) == [4, 8]


def test_sleep_us_ignores_a_spurious_wake():
    assert _run(lambda timer: sleep_us(3000)) == [3, 6]


def test_sleep_until_ignores_a_spurious_wake():
    assert _run(lambda timer: sleep_until(5 if timer.now() < 5 else 9)) == [5, 9]


def test_an_interval_wait_ignores_a_spurious_wake():
    iv = Interval(period_ms=3)
    assert _run(lambda timer: iv) == [3, 6]
    assert iv.count == 2 and iv.missed == 0
