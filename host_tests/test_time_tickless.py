# Tickless timing: a µs timer and a run loop that idles exactly until the next deadline. A far
# sleeper is not woken early to cascade, an idle loop wakes once per deadline, sleeps end at
# their deadline to the µs, and all of it holds across the 2**30 wrap of the clock.
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, sleep_ms, sleep_us
from shimeji.sched.runloop import RunLoop
from support import alloc_delta, heap_locked, micropython_only

MASK = (1 << 30) - 1


def _loop(start_us):
    clock = FakeClock(start_us)
    timer = Timer(clock, tick_us=1)
    s = StaticScheduler(8, timer=timer)
    waits = []

    def idle(us):
        waits.append(us)
        clock.advance_us(us)

    return clock, timer, s, RunLoop(s, idle=idle, max_idle_us=None), waits


def test_a_lone_far_deadline_is_reported_exactly_not_at_its_cascade():
    clock = FakeClock(MASK - 300000)
    timer = Timer(clock, tick_us=1)
    e = TimerEntry()
    timer.arm_us(e, 1000000)
    assert timer.wheel.next_in_ticks() < 1000000  # the wheel cascades earlier...
    assert timer.next_in_us() == 1000000  # ...but the idle wait is told the deadline
    clock.advance_us(999999)
    assert timer.turn().expired == 0 and timer.turn().next_in_us == 1
    clock.advance_us(1)
    assert timer.turn().expired == 1


def test_a_crowded_far_slot_reports_its_cascade_never_later_than_a_deadline():
    clock = FakeClock()
    timer = Timer(clock, tick_us=1)
    entries = [TimerEntry() for _ in range(12)]
    for i, e in enumerate(entries):
        timer.arm_us(e, 300000 + i)  # one level-3 slot, more entries than the walk takes
    nxt = timer.next_in_us()
    assert 0 < nxt <= 300000 and nxt == timer.wheel.next_in_ticks()
    fired = 0
    while fired < 12:
        clock.advance_us(timer.next_in_us())
        fired += timer.turn().expired
    assert clock() == 300011  # the last deadline, to the µs


def test_an_idle_loop_wakes_once_for_a_sleeper_due_in_a_second():
    clock, timer, s, loop, waits = _loop(MASK - 400000)  # the second crosses the wrap
    woke = []

    async def sleeper():
        t0 = clock()
        await sleep_ms(1000)
        woke.append((clock() - t0) & MASK)
        return "rested"

    h = s.spawn(sleeper())
    assert loop.run(h) == "rested"
    # One wait, to the deadline rounded up to the slack's grid (512 µs for a 1 s sleep).
    assert timer.slack_mask(1000) == 511 and loop.idles == 1 and waits == woke
    assert 1000000 <= woke[0] < 1000512 and timer.wheel.now % 512 == 0


def test_sleeps_end_at_their_deadline_to_the_microsecond():
    clock, timer, s, loop, waits = _loop(MASK - 2000)
    log = []

    async def sleeper(name, us, times):
        t0 = clock()
        for _ in range(times):
            await sleep_us(us)
            log.append((name, (clock() - t0) & MASK))

    async def main():
        a = s.spawn(sleeper("a", 1300, 3))
        b = s.spawn(sleeper("b", 2100, 2))
        await a
        await b

    loop.run(s.spawn(main()))
    assert log == [("a", 1300), ("b", 2100), ("a", 2600), ("a", 3900), ("b", 4200)]
    assert waits == [1300, 800, 500, 1300, 300]


def _steps(loop, n):
    for _ in range(n):
        loop.step()


async def _forever(us):
    while True:
        await sleep_us(us)


@micropython_only
def test_tickless_steps_allocate_nothing():
    clock, timer, s, loop, waits = _loop(MASK - 50000)
    for us in (70, 333, 1000, 4500, 300000):  # level 1, 2 and 3 slots, cascading
        s.spawn(_forever(us))
    _steps(loop, 20)
    waits.extend(range(200))  # room for the waits to come: appending must not grow the list
    del waits[:]
    heap_locked(_steps, loop, 60)
    del waits[:]
    assert alloc_delta(_steps, loop, 60) == 0
