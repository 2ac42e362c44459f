# A scheduler's own ``sched.wake(x)`` given what is not a task slot (left by sessions 24 and
# 25): a JoinHandle (what spawn returns), None, a number, a RunLoop, the scheduler. It raised
# AttributeError ("'JoinHandle' object has no attribute 'wa'") on every kind of scheduler: the
# plain one, one on an IrqCriticalSection (its _wake_irq), a traced one, an interrupt level.
# Now BadArgument says what to give, before the section; afterwards the section is free, the
# parked task is still parked, and the real wake wakes it. A slot of a TaskSlot subclass
# (spawn_allocated) is still woken. The check shares the wake's first test with the trace's
# (``_plain_slot``: docs/sync.md, "Session 26"), so the wake costs what it did.
from shimeji import (
    PARK,
    BadArgument,
    InterruptScheduler,
    IrqCriticalSection,
    RunLoop,
    StaticScheduler,
    TaskSlot,
    Trace,
    core,
    port,
)
from shimeji.trace.kinds import WAKE_EXTERNAL
from support import IS_MICROPYTHON, heap_locked, raises, thread_section
from synchelp import StateMachine

_SAYS = "wake(slot): give the task's TaskSlot"


class _Park:
    """Parks once; the second poll ends the await (a wake's effect)."""

    def __init__(self):
        self.parked = False
        self.slot = None

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if not self.parked:
            self.parked = True
            self.slot = core.current_slot()
            return PARK
        raise StopIteration(7)


async def _waiter(aw):
    return await aw


def _refusals_leave_everything_as_it_was(sched, cs, poll):
    aw = _Park()
    h = sched.spawn(_waiter(aw))
    poll()
    assert aw.slot is not None and not h.is_complete()
    for bad in (h, None, 3, "slot", RunLoop(StaticScheduler(1)), sched):
        with raises(BadArgument, _SAYS):
            sched.wake(bad)
        assert not cs.held()
    poll()
    assert not h.is_complete()  # nothing was woken by the refusals
    sched.wake(aw.slot)
    poll()
    assert h.result() == 7
    sched.wake(aw.slot)  # a finished task's slot: a no-op, as before


def test_a_plain_scheduler_refuses_what_is_not_a_slot():
    cs = thread_section()
    sched = StaticScheduler(2, critical_section=cs)
    _refusals_leave_everything_as_it_was(sched, cs, sched.tick)


def test_a_scheduler_on_an_irq_section_refuses_and_unmasks():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    sched = StaticScheduler(2, critical_section=cs)
    assert sched.wake == sched._wake_irq  # (the direct form: irq_direct)
    _refusals_leave_everything_as_it_was(sched, cs, sched.tick)
    assert m.irq == 1 and cs.depth == 0


def test_a_traced_scheduler_refuses_and_still_records_its_wakes():
    cs = thread_section()
    sched = StaticScheduler(2, critical_section=cs)
    trace = Trace(64)
    trace.attach(sched)
    _refusals_leave_everything_as_it_was(sched, cs, sched.tick)
    trace.detach()
    kinds = [r[1] for r in trace.records()]
    assert kinds.count(WAKE_EXTERNAL) == 1  # the one real wake (the refusals: none)
    _refusals_leave_everything_as_it_was(sched, cs, sched.tick)  # untraced again


def test_an_interrupt_level_refuses_what_is_not_a_slot():
    isr = InterruptScheduler(2)
    try:
        _refusals_leave_everything_as_it_was(isr, isr.critical_section, port.check_point)
    finally:
        isr.close()


def test_a_slot_of_a_taskslot_subclass_is_still_woken():
    class MySlot(TaskSlot):
        pass

    for make in (StaticScheduler, lambda n: StaticScheduler(
            n, critical_section=IrqCriticalSection(StateMachine()))):
        sched = make(2)
        aw = _Park()
        h = sched.spawn_allocated(MySlot(), _waiter(aw))
        sched.tick()
        assert aw.slot.__class__ is MySlot and not h.is_complete()
        sched.wake(aw.slot)
        sched.tick()
        assert h.result() == 7


def test_the_wake_allocates_nothing():
    if not IS_MICROPYTHON:
        return  # (the heap lock is MicroPython's)
    sched = StaticScheduler(2)
    aw = _Park()
    h = sched.spawn(_waiter(aw))
    sched.tick()
    heap_locked(sched.wake, aw.slot)
    heap_locked(sched.wake, aw.slot)  # idempotent
    sched.tick()
    assert h.result() == 7
