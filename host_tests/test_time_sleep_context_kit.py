# sleep_ms takes the timer from core.context (``ctx.tkit``: the ticking FIFO scheduler's
# Timer._kit, set by tick_fifo for its tick, restored after it), not from slot.sched: a
# scheduler ticked from a task of another (FIFO in FIFO, FIFO in round robin and the other
# way round, a traced one) arms its tasks' sleeps on its own timer, the outer task's next
# sleep on the outer timer; a timer replaced between ticks (``sched.timer = ...``) is the
# one the next sleep arms on; an interrupt-level task keeps _Sleep on its own timer; the
# context holds no kit outside a tick.
from shimeji import (
    FakeClock,
    InterruptScheduler,
    RoundRobinPolicy,
    StaticScheduler,
    Timer,
    core,
    sleep_ms,
)


def _sched(policy=None, traced=False):
    clock = FakeClock(0)
    s = StaticScheduler(2, timer=Timer(clock), policy=policy)
    if traced:
        from shimeji.trace import Trace

        Trace(64).attach(s)
    return clock, s


def _armed_on(slot):
    return slot.timer.wheel


def _nested(outer_policy, inner_policy, inner_traced=False):
    oclock, outer = _sched(outer_policy)
    iclock, inner = _sched(inner_policy, inner_traced)
    seen = []

    async def inner_task():
        sleep_ms(5)  # armed, not awaited: only where it is armed is looked at
        seen.append(("inner", _armed_on(core.current_slot()) is inner.timer.wheel))
        core.current_slot().timer.cancel()

    async def outer_task():
        sleep_ms(3)
        seen.append(("outer before", _armed_on(core.current_slot()) is outer.timer.wheel))
        core.current_slot().timer.cancel()
        inner.spawn(inner_task())
        inner.tick()
        sleep_ms(3)
        seen.append(("outer after", _armed_on(core.current_slot()) is outer.timer.wheel))
        core.current_slot().timer.cancel()
        await sleep_ms(2)  # a real sleep on the outer timer after the inner tick
        seen.append(("woke", oclock()))

    h = outer.spawn(outer_task())
    outer.tick()
    assert core.context.tkit is core.NO_KIT  # restored: no kit outside a tick
    for _ in range(10):
        if h.is_complete():
            break
        oclock.advance(1)
        outer.timer.turn()
        outer.tick()
    h.result()
    assert seen == [("outer before", True), ("inner", True), ("outer after", True),
                    ("woke", 2000)], seen


def test_a_fifo_scheduler_ticked_from_a_fifo_task_sleeps_on_its_own_timer():
    _nested(None, None)


def test_the_same_across_the_general_tick_both_ways():
    _nested(RoundRobinPolicy(), None)
    _nested(None, RoundRobinPolicy())


def test_the_same_with_the_inner_scheduler_traced():
    _nested(None, None, inner_traced=True)


def test_a_timer_replaced_between_ticks_is_the_one_the_next_sleep_arms_on():
    clock, s = _sched()
    seen = []

    async def task():
        for _ in range(2):
            sleep_ms(4)
            seen.append(core.current_slot().timer.wheel)
            core.current_slot().timer.cancel()
            await core.yield_now()

    s.spawn(task())
    first = s.timer
    s.tick(1)  # one poll: the first sleep
    second = Timer(FakeClock(0))
    s.timer = second
    s.tick(1)
    assert seen == [first.wheel, second.wheel]


def test_an_interrupt_level_task_inside_a_fifo_tick_sleeps_on_its_own_timer():
    # The level runs inside the outer task's poll (at the VM's next check point on
    # MicroPython, at port.check_point() on CPython), with the outer tick's kit in the
    # context: its task's sleep keeps _Sleep and arms on the level's own timer.
    from shimeji import WaitCell, port

    oclock, outer = _sched()
    level = InterruptScheduler(2, timer=Timer(FakeClock(0)))
    cell = WaitCell()
    seen = []

    async def irq_task():
        await cell.wait()
        aw = sleep_ms(5)
        seen.append(("irq", _armed_on(core.current_slot()) is level.timer.wheel,
                     type(aw).__name__))
        core.current_slot().timer.cancel()

    async def outer_task():
        cell.wake()
        port.check_point()
        for _ in range(3):
            if seen:
                break
            port.check_point()
        sleep_ms(3)
        seen.append(("outer", _armed_on(core.current_slot()) is outer.timer.wheel))
        core.current_slot().timer.cancel()

    level.spawn(irq_task())
    port.check_point()
    outer.spawn(outer_task())
    outer.tick()
    assert seen == [("irq", True, "_Sleep"), ("outer", True)], seen
    assert core.context.tkit is core.NO_KIT
