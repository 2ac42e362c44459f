# Recording allocates nothing: the traced ticks, wakes from outside (the side ring and its
# drain), the timer turn, marks, and a ring that is overwriting. Proved with heap_lock AND a
# zero gc.mem_alloc() delta.
from gate import Gate
from shimeji import FakeClock, RoundRobinPolicy, StaticScheduler, Timer, Trace, sleep_ms, yield_now
from shimeji.trace import kinds as K
from support import alloc_delta, heap_locked, micropython_only


async def spinner():
    while True:
        await yield_now()


def _ticks(s, n):
    for _ in range(n):
        s.tick()


@micropython_only
def test_traced_fifo_tick_allocates_nothing_while_the_ring_wraps():
    s = StaticScheduler(16)
    tr = Trace(64).attach(s)
    for _ in range(16):
        s.spawn(spinner())
    s.tick()
    assert tr.dropped > 0  # the ring is overwriting already
    heap_locked(_ticks, s, 20)
    assert alloc_delta(_ticks, s, 20) == 0
    assert len(tr) == 64


@micropython_only
def test_traced_general_tick_allocates_nothing():
    s = StaticScheduler(8, policy=RoundRobinPolicy(slice_us=1000))
    Trace(32).attach(s)
    for _ in range(8):
        s.spawn(spinner())
    s.tick()
    heap_locked(_ticks, s, 20)
    assert alloc_delta(_ticks, s, 20) == 0


def _wake_all_and_tick(gates, s):
    for g in gates:
        g.open()
    s.tick()


@micropython_only
def test_traced_wake_park_and_side_ring_drain_allocate_nothing():
    s = StaticScheduler(8)
    tr = Trace(32, side=4).attach(s)  # 8 wakes into a side ring of 4: it overflows too
    gates = [Gate() for _ in range(8)]

    async def waiter(g):
        while True:
            await g

    for g in gates:
        s.spawn(waiter(g))
    s.tick()
    heap_locked(_wake_all_and_tick, gates, s)
    d = tr.dropped
    assert alloc_delta(_wake_all_and_tick, gates, s) == 0
    assert tr.dropped > d


def _turn_and_tick(clock, timer, s):
    clock.advance(1)
    timer.turn()
    s.tick()


@micropython_only
def test_traced_timer_turn_and_sleeps_allocate_nothing():
    clock = FakeClock(0, 1000)
    timer = Timer(clock, 1000)
    s = StaticScheduler(8, timer=timer, clock_us=clock)
    tr = Trace(64).attach(s)

    async def sleeper():
        while True:
            await sleep_ms(1)

    for _ in range(8):
        s.spawn(sleeper())
    for _ in range(3):
        _turn_and_tick(clock, timer, s)
    heap_locked(_turn_and_tick, clock, timer, s)
    assert alloc_delta(_turn_and_tick, clock, timer, s) == 0
    kinds = [r[1] for r in tr.records()]
    assert 11 in kinds and 7 in kinds  # TIMER_FIRE and WAKE_TIMER were recorded


def _marks(tr, n):
    for _ in range(n):
        tr.mark(7)


@micropython_only
def test_mark_and_record_allocate_nothing():
    s = StaticScheduler(2)
    tr = Trace(8).attach(s)
    heap_locked(_marks, tr, 20)
    assert alloc_delta(_marks, tr, 20) == 0
    assert alloc_delta(tr.record, 16, 1, 2) == 0


def _isr_records(tr, n):
    for i in range(n):
        tr.record_isr(23, 1, i)


@micropython_only
def test_record_isr_allocates_nothing_even_when_the_side_ring_overflows():
    s = StaticScheduler(2)
    tr = Trace(8, side=4).attach(s)
    heap_locked(_isr_records, tr, 10)
    assert alloc_delta(_isr_records, tr, 10) == 0
    assert tr.dropped == 6 + 10  # the side ring was already full for the second ten


def _preempting_rounds(sched, n):
    for _ in range(n):
        sched.tick(1)


@micropython_only
def test_traced_interrupt_level_and_its_preemptions_allocate_nothing():
    from shimeji import InterruptScheduler, WaitCell, port

    level = InterruptScheduler(4)
    s = StaticScheduler(4)
    ti = Trace(16).attach(level)  # small: both rings wrap
    tt = Trace(16).attach(s)
    cell = WaitCell()
    count = [0]

    async def urgent():
        while True:
            await cell.wait()
            count[0] += 1

    async def hog():
        while True:
            cell.wake()  # the level's callback runs at the check point, inside this poll
            port.check_point()
            await yield_now()

    level.spawn(urgent())
    port.check_point()
    s.spawn(hog())
    _preempting_rounds(s, 5)
    heap_locked(_preempting_rounds, s, 20)
    assert alloc_delta(_preempting_rounds, s, 20) == 0
    assert count[0] == 45 and level.error is None
    kinds = [r[1] for r in tt.records()]
    assert K.IRQ_PREEMPT in kinds and tt.dropped > 0 and ti.dropped > 0
