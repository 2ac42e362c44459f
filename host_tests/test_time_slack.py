# The timer's slack (deadline coalescing): a millisecond deadline is rounded up to a power-of-
# two grid of 1 µs per ms of the sleep, at least slack_us (64) and at most slack_max_us (1024).
# Never early, late by less than the grid, the sleepers of one grid cell woken in one turn
# (fewer loop wake-ups), exact with slack_us=0, the same across the 2**30 wrap, and the hot
# path still allocates nothing.
from shimeji import (
    FakeClock,
    StaticScheduler,
    Timer,
    TimerConfigError,
    TimerEntry,
    sleep_ms,
    sleep_us,
    wrap_add,
    wrap_diff,
)
from shimeji.sched.runloop import RunLoop
from support import alloc_delta, heap_locked, micropython_only, raises

MASK = (1 << 30) - 1


def test_the_grid_grows_with_the_sleep_between_its_bounds():
    t = Timer(FakeClock(), tick_us=1)
    assert (t.slack_us, t.slack_max_us) == (64, 1024)
    got = [t.slack_mask(ms) for ms in (0, 1, 7, 127, 128, 255, 256, 1000, 1024, 600000)]
    assert got == [63, 63, 63, 63, 127, 127, 255, 511, 1023, 1023]
    assert [Timer(FakeClock(), tick_us=10).slack_mask(ms) for ms in (1, 1000)] == [3, 63]
    # A 1 ms tick already coalesces: the grid is under two ticks, no slack.
    assert [Timer(FakeClock()).slack_mask(ms) for ms in (1, 1000, 600000)] == [0, 0, 0]
    assert Timer(FakeClock(), tick_us=1, slack_us=0).slack_mask(5000) == 0
    fixed = Timer(FakeClock(), tick_us=1, slack_us=100, slack_max_us=100)
    assert [fixed.slack_mask(ms) for ms in (1, 5000)] == [63, 63]  # a power of two below


def test_bad_slack_settings_say_what_to_do_and_change_nothing():
    clock = FakeClock()
    for kw, words in (({"slack_us": -1}, "0 <= slack_us"),
                      ({"slack_us": 200, "slack_max_us": 100}, "slack_us <= slack_max_us"),
                      ({"slack_us": 1.5}, "slack_us"), ({"slack_max_us": None}, "slack_max_us")):
        with raises(TimerConfigError, words):
            Timer(clock, 1, **kw)
    t = Timer(clock, tick_us=1)
    e = TimerEntry()
    t.arm_ms(e, 3)
    clock.advance_us(3063)
    assert t.turn().expired == 1


def _coalesced(slack_us, start_us=0, wheel_now=0):
    clock = FakeClock(start_us)
    timer = Timer(clock, tick_us=1, slack_us=slack_us, now=wheel_now)
    s = StaticScheduler(22, timer=timer)
    log = []

    def idle(us):
        clock.advance_us(us)

    async def sleeper(i):
        await sleep_us(1 + 3 * i)  # the tasks ask at µs of their own, as on a real clock
        for k in range(6):
            ms = 1 + (k + i // 10) % 3
            due = wrap_add(timer.now(), ms * 1000)
            await sleep_ms(ms)
            # The turn that woke it (the tasks polled before it moved the clock on).
            log.append(wrap_diff(timer.wheel.now, due))
            assert timer.wheel.now % (timer.slack_mask(ms) + 1) == 0  # woken on the grid

    async def main():
        for h in [s.spawn(sleeper(i)) for i in range(20)]:
            await h

    loop = RunLoop(s, idle=idle, max_idle_us=None)
    loop.run(s.spawn(main()))
    return log, loop.idles


def test_sleepers_on_one_grid_cell_fire_in_one_turn_never_early():
    exact, idles_exact = _coalesced(0)
    late, idles = _coalesced(64)
    assert len(late) == len(exact) == 120
    assert min(exact) == 0 and max(exact) == 0  # slack 0: to the µs (the fake clock)
    assert min(late) >= 0 and max(late) < 64  # never early, less than the 64 µs grid late
    assert idles * 3 < idles_exact, (idles, idles_exact)  # fewer loop wake-ups (41 vs 148)


def test_the_slack_holds_across_the_wrap():
    for start, now in ((MASK - 3000, MASK - 2500), (MASK - 40, MASK - 90)):
        late, idles = _coalesced(64, start, now)
        assert len(late) == 120 and min(late) >= 0 and max(late) < 64
        assert idles > 0


def test_a_long_callback_deadline_rounds_to_its_grid_and_sleep_us_stays_exact():
    clock = FakeClock(MASK - 1000000)  # the 5 s deadline crosses the wrap
    timer = Timer(clock, tick_us=1)
    fired = []
    e = TimerEntry(callback=lambda entry: fired.append(clock()))
    clock.advance_us(17)
    timer.turn()
    timer.arm_ms(e, 5000)  # 5 µs per ms would be 5000: capped at 1024
    assert e.deadline % 1024 == 0
    while not fired:
        clock.advance_us(timer.next_in_us())
        timer.turn()
    left = (fired[0] - (MASK - 1000000 + 17 + 5000000)) & MASK
    assert 0 <= left < 1024
    s = StaticScheduler(2, timer=timer)
    woke = []

    async def short():
        t0 = clock()
        await sleep_us(37)
        woke.append((clock() - t0) & MASK)

    RunLoop(s, idle=clock.advance_us, max_idle_us=None).run(s.spawn(short()))
    assert woke == [37]


async def _forever(ms):
    while True:
        await sleep_ms(ms)


def _steps(loop, n):
    for _ in range(n):
        loop.step()


@micropython_only
def test_slack_sleeps_allocate_nothing():
    clock = FakeClock(MASK - 20000)
    timer = Timer(clock, tick_us=1)
    s = StaticScheduler(8, timer=timer)
    for ms in (1, 3, 7, 300, 2000):  # the base grid, and grids that grow with the sleep
        s.spawn(_forever(ms))
    loop = RunLoop(s, idle=clock.advance_us, max_idle_us=None)
    _steps(loop, 20)
    heap_locked(_steps, loop, 60)
    assert alloc_delta(_steps, loop, 60) == 0


def _grid_and_ragged(wheel_now):
    clock = FakeClock()
    timer = Timer(clock, tick_us=1, now=wheel_now)
    s = StaticScheduler(3, timer=timer)
    log = []
    grid_at = 1000 + (-(wheel_now + 1000) & 63)  # the 64-tick grid is absolute

    async def grid():
        await sleep_ms(1)
        log.append(("grid", wrap_diff(timer.now(), wheel_now)))

    async def ragged():
        await sleep_us(grid_at + 26)  # the same level-1 slot, past its start
        log.append(("us", wrap_diff(timer.now(), wheel_now)))

    s.spawn(grid())
    s.spawn(ragged())
    s.spawn(grid())
    s.tick()
    for _ in range(40):
        nxt = timer.next_in_us()
        if nxt < 0:
            break
        clock.advance_us(max(nxt, 1))
        timer.turn()
        s.tick()
    return grid_at, log


def test_a_task_past_a_level_one_slots_start_is_not_woken_at_that_start():
    # Grid sleepers and a µs sleeper share a level-1 slot (64 ticks wide): the grid's are
    # due at its start and handed off at once, the µs one (a "ragged" entry) is not woken
    # before its own deadline; also across the 2**30 wrap (MASK - 500: the deadlines are
    # past it, on level 4 first, and reach level 1 by cascading).
    for wheel_now in (0, MASK - 500, MASK - 1500):
        grid_at, log = _grid_and_ragged(wheel_now)
        assert log == [("grid", grid_at), ("grid", grid_at), ("us", grid_at + 26)]
