# RunLoop(wake_early_us=...): the idle primitive asked to end that many µs before each wait's
# end, the rest spun on the timer's clock (sched/earlywake.py). On a clock that moves 1 µs per
# read and an idle that ends late by a varying oversleep (as a host's sleep does): no sleeper
# wakes early, a sleep that ends early is finished by the spin within one idle, a wait of at
# most wake_early_us is asked as it is, a far deadline is still one idle, the spin stops on a
# clock that does not move, nothing allocates; off by default.
from shimeji import FakeClock, StaticScheduler, Timer, sleep_ms, sleep_us
from shimeji.errors import BadArgument
from shimeji.sched.earlywake import early_idle
from shimeji.sched.runloop import RunLoop
from support import alloc_delta, heap_locked, micropython_only

_MASK = 0x3FFFFFFF


class MovingClock(FakeClock):
    """A FakeClock that moves 1 µs at every read (a spin on it ends)."""

    def __call__(self):
        self.t = (self.t + 1) & _MASK
        return self.t


def _loop(early, oversleeps, start=0):
    clock = MovingClock(start)
    timer = Timer(clock, tick_us=1, slack_us=0)
    s = StaticScheduler(8, timer=timer)
    asked = []

    def idle(us):  # a host's sleep: ends ``oversleep`` µs past the µs asked
        asked.append(us)
        clock.advance_us(us + oversleeps[len(asked) % len(oversleeps)])

    loop = RunLoop(s, idle=idle, max_idle_us=None, wake_early_us=early)
    return clock, s, loop, asked


async def _sleeper(clock, us, times, lates):
    for _ in range(times):
        t0 = clock.t
        await sleep_us(us)
        lates.append(((clock.t - t0) & _MASK) - us)


def test_no_sleeper_wakes_early_and_each_deadline_is_one_idle():
    for start in (0, (1 << 30) - 3000):  # (and across the clock's 2**30 wrap)
        clock, s, loop, asked = _loop(40, (0, 5, 39, 41, 80), start)
        lates = []
        loop.run(s.spawn(_sleeper(clock, 500, 12, lates)))
        assert len(lates) == 12 and min(lates) >= 0, lates
        assert loop.idles == 12  # the spin is inside the idle: one per deadline
        assert all(a < 500 - 40 + 10 for a in asked)  # each asked to end 40 µs early
        # An oversleep of at least 40 µs past the shortened ask ends at or after the
        # deadline: no spin then; shorter ones were finished by the spin, not a second idle.
        assert max(lates) < 80, lates


def test_a_wait_of_at_most_wake_early_us_is_asked_as_it_is():
    clock, s, loop, asked = _loop(40, (0,))

    async def sleeper():
        await sleep_us(30)

    loop.run(s.spawn(sleeper()))
    assert asked and asked[-1] <= 30 and asked[-1] > 20, asked


def test_a_far_deadline_is_one_idle():
    clock, s, loop, asked = _loop(40, (0,))

    async def sleeper():
        await sleep_ms(1000)

    loop.run(s.spawn(sleeper()))
    assert loop.idles == 1 and len(asked) == 1 and asked[0] > 999000 - 40 - 10, asked


def test_the_spin_stops_on_a_clock_that_does_not_move():
    clock = FakeClock(100)
    asked = []
    idle = early_idle(asked.append, 40, clock)
    idle(1000)  # the clock stands still: the spin gives up after its bound, never hangs
    assert asked == [960]
    idle(40)
    assert asked == [960, 40]


def test_wake_early_us_is_off_by_default_and_needs_a_timer_with_a_clock():
    s = StaticScheduler(2, timer=Timer())
    idle = [].append
    loop = RunLoop(s, idle=idle)
    assert loop.wake_early_us == 0 and loop._idle is idle and loop.idle_primitive is idle
    loop = RunLoop(s, idle=idle, wake_early_us=25)
    assert loop.wake_early_us == 25 and loop._idle is not idle and loop.idle_primitive is idle
    assert RunLoop(StaticScheduler(2), idle=idle, wake_early_us=25).wake_early_us == 0


def test_wake_early_us_refuses_what_is_not_an_int_of_us():
    s = StaticScheduler(2, timer=Timer())
    for bad in (-1, "40", 1.5, None.__class__):
        try:
            RunLoop(s, wake_early_us=bad)
        except BadArgument as e:
            assert "wake_early_us" in str(e) and ">= 0" in str(e)
        else:
            raise AssertionError("RunLoop(wake_early_us=%r) accepted" % (bad,))
    RunLoop(s, wake_early_us=10)  # and works afterwards


@micropython_only
def test_the_early_idle_allocates_nothing():
    clock = MovingClock()
    idle = early_idle(clock.advance_us, 40, clock)
    heap_locked(idle, 500)
    heap_locked(idle, 30)
    assert alloc_delta(idle, 500) == 0
