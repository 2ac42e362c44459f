# sleep_ms arms the task's entry in line (time/sleep.py: TimerWheel.arm_after's placement
# written out, as the cascade does): for every level, across the 2**30 wrap, and with a part
# of a tick already gone, the entry lands in the slot, with the deadline, that arm_after
# gives it; and a task that sleeps from there wakes on that tick. (With no slack: the slack's
# rounding is test_time_slack.py's.)
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, TimerWheel, core, sleep_ms

MASK = (1 << 30) - 1
NOWS = (0, 5, 63, 64, 4095, (1 << 18) - 3, (1 << 24) - 10, MASK - 70, MASK - 5000, MASK)


def _placed(tick_us, now, ms, gone_us):
    clock = FakeClock(1000, tick_us=tick_us)
    timer = Timer(clock, tick_us, slack_us=0, slack_max_us=0, now=now)
    s = StaticScheduler(1, timer=timer)
    seen = []

    async def task():
        clock.advance_us(gone_us)
        sleep_ms(ms)  # armed at once; not awaited: only the placement is looked at
        e = core.current_slot().timer
        seen.append((timer.wheel.list_index(e), e.deadline))
        e.cancel()

    s.spawn(task())
    s.tick()
    per = 1000 // tick_us
    ref = TimerEntry()
    w = TimerWheel(now)
    w.arm_after(ref, ms * per + (1 if gone_us % tick_us else 0) + gone_us // tick_us)
    return seen[0], (w.list_index(ref), ref.deadline)


def test_sleep_ms_places_its_entry_as_arm_after_does():
    for tick_us in (1, 1000):
        for now in NOWS:
            for ms in (1, 2, 7, 64, 65, 4096, 300000):
                for gone_us in (0, 1, 999):
                    got, want = _placed(tick_us, now, ms, gone_us)
                    assert got == want, (tick_us, now, ms, gone_us, got, want)


def test_a_sleep_across_the_wrap_wakes_on_its_tick():
    clock = FakeClock(0, tick_us=1)
    timer = Timer(clock, 1, slack_us=0, now=MASK - 2500)
    s = StaticScheduler(1, timer=timer)
    log = []

    async def task():
        for _ in range(3):
            await sleep_ms(1)
            log.append(timer.wheel.now)

    s.spawn(task())
    while s.live_count():
        timer.turn()
        s.tick()
        clock.advance_us(250)
    assert log == [MASK - 1500, MASK - 500, 499]
