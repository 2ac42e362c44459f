# The interrupt level's hot paths allocate nothing: the wake (what an interrupt handler calls),
# the timer interrupt, and a whole round of wake -> schedule() callback -> poll -> park.
# Proved with heap_lock AND a zero gc.mem_alloc() delta.
from shimeji import FakeClock, InterruptScheduler, Timer, WaitCell, port, sleep_ms
from support import alloc_delta, heap_locked, micropython_only


def _round(cell):
    cell.wake()
    port.check_point()  # a VM check point: the level's callback runs here


@micropython_only
def test_a_wake_and_the_run_it_causes_allocate_nothing():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    count = [0]

    async def urgent():
        while True:
            await cell.wait()
            count[0] += 1

    isr.spawn(urgent())
    port.check_point()
    _round(cell)
    heap_locked(_round, cell)
    assert alloc_delta(_round, cell) == 0
    assert count[0] == 3 and isr.error is None and isr.runs == 4


def _wake_only(isr, slot):
    isr.wake(slot)


@micropython_only
def test_the_isr_wake_entry_allocates_nothing():
    isr = InterruptScheduler(4)
    cell = WaitCell()

    async def urgent():
        while True:
            await cell.wait()

    h = isr.spawn(urgent())
    port.check_point()
    slot = h._live_slot()
    cs = isr.critical_section
    state = cs.enter()  # the callback waits for the section: only the wake is measured
    heap_locked(_wake_only, isr, slot)
    assert alloc_delta(_wake_only, isr, slot) == 0  # a second wake only links (idempotent)
    cs.exit(state)
    port.check_point()
    assert isr.error is None and isr._pending is False


def _tick_round(clock, timer):
    clock.advance(1)
    timer.interrupt()
    port.check_point()


@micropython_only
def test_timer_interrupts_and_the_sleeps_they_end_allocate_nothing():
    clock = FakeClock()
    timer = Timer(clock)
    isr = InterruptScheduler(4, timer=timer)
    count = [0]

    async def ticker():
        while True:
            await sleep_ms(1)
            count[0] += 1

    isr.spawn(ticker())
    port.check_point()
    _tick_round(clock, timer)
    heap_locked(_tick_round, clock, timer)
    assert alloc_delta(_tick_round, clock, timer) == 0
    assert count[0] == 3 and isr.error is None


@micropython_only
def test_one_hardware_timer_driving_both_levels_allocates_nothing():
    from shimeji.platform.bsp import TickFan

    clock = FakeClock()
    thread_timer = Timer(clock)
    timer = Timer(clock)
    isr = InterruptScheduler(4, timer=timer)
    fire = TickFan([thread_timer.interrupt, timer.interrupt]).fire
    fire(None)
    heap_locked(fire, None)
    assert alloc_delta(fire, None) == 0
    assert thread_timer.interrupts == 3 and timer.interrupts == 3 and isr.error is None
