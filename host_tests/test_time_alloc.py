# The timer's hot paths allocate nothing: turn() (waking sleepers, cascading, firing an
# expiry), arm/cancel, the ISR entry, sleeps, Interval and a timeout that is met. Proved with
# heap_lock AND a zero gc.mem_alloc() delta.
from shimeji import (
    FakeClock,
    Interval,
    StaticScheduler,
    Timer,
    TimerEntry,
    sleep_ms,
    sleep_until,
    sleep_us,
    timeout,
    wrap_add,
)
from support import alloc_delta, heap_locked, micropython_only

MASK = (1 << 30) - 1


def make(capacity=16):
    clock = FakeClock(MASK - 30_000)  # runs across the wrap while measured
    timer = Timer(clock)
    return clock, timer, StaticScheduler(capacity, timer=timer)


def _loop(clock, timer, s, n):
    for _ in range(n):
        clock.advance(1)
        timer.turn()
        s.tick()


async def sleeper(ms):
    while True:
        await sleep_ms(ms)


async def mixed_sleeper(timer):
    while True:
        await sleep_us(1500)
        await sleep_until(wrap_add(timer.now(), 3))
        await sleep_ms(0)


@micropython_only
def test_sleep_us_and_sleep_until_allocate_nothing():
    clock, timer, s = make()
    for _ in range(4):
        s.spawn(mixed_sleeper(timer))
    _loop(clock, timer, s, 50)
    heap_locked(_loop, clock, timer, s, 100)
    assert alloc_delta(_loop, clock, timer, s, 100) == 0


@micropython_only
def test_steady_state_turn_and_sleeps_allocate_nothing():
    clock, timer, s = make()
    for i in range(16):
        s.spawn(sleeper(1 + i * 5))  # 1..76 ms: level 0 and level 1 slots, cascading
    _loop(clock, timer, s, 100)
    heap_locked(_loop, clock, timer, s, 200)
    assert alloc_delta(_loop, clock, timer, s, 200) == 0
    assert timer.wheel.pending == 16


def _arm_cancel(timer, entries):
    ms = 1
    for e in entries:
        timer.arm_ms(e, ms)
        ms += 97
    for e in entries:
        e.cancel()
    for e in entries:
        e.cancel()  # not armed: a no-op


@micropython_only
def test_arm_and_cancel_allocate_nothing():
    clock, timer, s = make()
    entries = [TimerEntry() for _ in range(100)]
    _arm_cancel(timer, entries)
    heap_locked(_arm_cancel, timer, entries)
    assert alloc_delta(_arm_cancel, timer, entries) == 0
    assert timer.wheel.pending == 0


def _interrupts(timer, n):
    for _ in range(n):
        timer.interrupt(None)


def _reads(timer, n):
    for _ in range(n):
        timer.now()
        timer.next_in_us()


@micropython_only
def test_the_isr_entry_and_time_reads_allocate_nothing():
    clock, timer, s = make()
    timer.interrupts = MASK - 5  # wraps while measured
    heap_locked(_interrupts, timer, 10)
    assert alloc_delta(_interrupts, timer, 10) == 0
    assert timer.interrupts == 14 and timer.pending
    timer.arm_ms(TimerEntry(), 5000)
    heap_locked(_reads, timer, 10)
    assert alloc_delta(_reads, timer, 10) == 0


async def ticker(period):
    iv = Interval(period)
    while True:
        await iv


@micropython_only
def test_interval_waits_allocate_nothing():
    clock, timer, s = make()
    for p in (1, 2, 5, 70):
        s.spawn(ticker(p))
    _loop(clock, timer, s, 100)
    heap_locked(_loop, clock, timer, s, 200)
    assert alloc_delta(_loop, clock, timer, s, 200) == 0


async def guarded(ms_work, ms_limit):
    while True:
        await timeout(sleep_ms(ms_work), ms_limit)


@micropython_only
def test_a_timeout_that_is_met_allocates_nothing():
    clock, timer, s = make()
    for _ in range(4):
        s.spawn(guarded(3, 10))
    _loop(clock, timer, s, 50)
    heap_locked(_loop, clock, timer, s, 100)
    assert alloc_delta(_loop, clock, timer, s, 100) == 0


async def doomed():
    try:
        await timeout(sleep_ms(1000), 5)
    except Exception:
        pass


@micropython_only
def test_a_turn_that_fires_a_timeout_allocates_nothing():
    clock, timer, s = make()
    s.spawn(doomed())
    timer.turn()
    s.tick()
    clock.advance(5)
    heap_locked(timer.turn)  # the expiry is only recorded: thrown at the task's next poll
    assert timer._turn.expired == 1
    s.tick()
    assert s.live_count() == 0
    s.spawn(doomed())
    timer.turn()
    s.tick()
    clock.advance(5)
    assert alloc_delta(timer.turn) == 0
