# The asyncio facade's timeout()/timeout_at() blocks arm their deadline tick in ints: exact at
# any tick and across the timer's 2**30 wrap. (In floats, loop.time() near 2**30 ticks of 1 ms
# is ~1.07e6 s: single precision, as on the ESP32, holds it to 1/8 s, so the tick came out up
# to ~64 ticks off, early as well as late.) Each case here arms on a timer whose ticks are
# about to wrap and checks the tick against the rule worked out by hand: when's tick (rounded
# to the nearest), + 1 (the tick loop.time() reads has begun), up to the slack grid.
import shimeji.asyncio as asyncio
from shimeji import FakeClock, Timer
from shimeji.time.timer import SLACK_US

MASK = 0x3FFFFFFF


def _armed(make, now, tick_us=1000, slack_us=0):
    """The tick the block made by ``make()`` arms at, entered on a timer at tick ``now``."""
    loop = asyncio.get_event_loop()
    saved = loop.timer
    loop.timer = Timer(FakeClock(), tick_us=tick_us, slack_us=slack_us, now=now)
    try:
        cm = make(loop)
        cm._state = 1  # (inside its block: what __aenter__ sets before it arms)
        cm._arm()
        entry = cm._entry
        tick = entry.deadline if entry.pos >= 0 else None
        entry.cancel()
        return tick
    finally:
        loop.timer = saved


def test_timeout_arms_the_exact_tick_across_the_wrap():
    # (now, delay in seconds, the tick): now + round(delay / tick) + 1, wrapped
    for now, delay, tick in ((MASK - 3, 0.05, 47), (MASK, 0.001, 1), (MASK - 50, 0.05, 0),
                             (MASK - 51, 0.05, MASK), (MASK - 1, 0.0004, MASK),
                             (MASK - 1, 0.0006, 0), (5, 0.05, 56)):
        got = _armed(lambda loop, d=delay: asyncio.timeout(d), now)
        assert got == tick, (now, delay, got, tick)


# Single-precision floats (MicroPython's qemu, STM32, RP2040 and ESP32 ports) hold a
# loop.time() near 2**30 ms only to 1/8 s, so ``loop.time() + 0.05`` is loop.time() again:
# the deadline a timeout_at is given is lost before the facade sees it. There the cases take
# delays on that grid, which such a float holds exactly (timeout(delay) counts in ints: exact
# with any delay, the test above).
SINGLE = float(2**24 + 1) == float(2**24)
AT_CASES = ((MASK - 3, 0.25, 247), (MASK - 251, 0.25, MASK), (MASK, 0.125, 125)) if SINGLE \
    else ((MASK - 3, 0.05, 47), (MASK - 51, 0.05, MASK), (MASK, 0.002, 2))


def test_timeout_at_and_reschedule_arm_the_exact_tick_across_the_wrap():
    for now, delay, tick in AT_CASES:
        got = _armed(lambda loop, d=delay: asyncio.timeout_at(loop.time() + d), now)
        assert got == tick, ("timeout_at", now, delay, got, tick)

        def rescheduled(loop, d=delay):
            cm = asyncio.timeout(10)
            cm._state = 1
            cm.reschedule(loop.time() + d)
            cm._entry.cancel()
            cm._state = 0
            return cm

        got = _armed(rescheduled, now)
        assert got == tick, ("reschedule", now, delay, got, tick)


def test_the_slack_grid_is_counted_across_the_wrap_too():
    # A 1 µs timer with the default slack: a 100 ms deadline goes up to its grid, whose
    # multiples are counted on the wrapped ticks (as sleep_ms's)
    now = MASK - 40_000
    got = _armed(lambda loop: asyncio.timeout(0.1), now, tick_us=1, slack_us=SLACK_US)
    timer = Timer(FakeClock(), tick_us=1, now=now)
    mask = timer.slack_mask(100)
    assert mask > 0  # (the grid is in play)
    want = (now + 100_000 + 1 + mask) & ~mask & MASK
    assert got == want and got < now, (got, want)


def test_a_block_entered_later_keeps_its_deadline():
    # Made at one tick and entered ticks later (the wrap between): the same deadline
    loop = asyncio.get_event_loop()
    saved = loop.timer
    clock = FakeClock()
    loop.timer = Timer(clock, slack_us=0, now=MASK - 2)
    try:
        cm = asyncio.timeout(0.01)
        clock.advance(5)  # 5 ticks of 1 ms: the timer wrapped
        assert loop.timer.now() == 2
        cm._state = 1
        cm._arm()
        assert cm._entry.deadline == (MASK - 2 + 10 + 1) & MASK == 8
        cm._entry.cancel()
    finally:
        loop.timer = saved
