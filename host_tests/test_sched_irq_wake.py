# The scheduler's hot sections on a board's IrqCriticalSection (sched/waking.py's _IRQ forms):
# wake, the tick's inbox take and the park call disable_irq/enable_irq directly and count the
# section's depth themselves. Same outcomes as through enter/exit, nesting restores the mask,
# held() is True inside, a subclass's own wake is kept, and nothing allocates.
from shimeji import (
    IrqCriticalSection,
    StaticScheduler,
    TaskSlot,
    WaitCell,
    core,
    yield_now,
)
from support import alloc_delta, heap_locked, micropython_only
from synchelp import HeapLockingMachine, StateMachine


class _ParkOnce:
    """Parks the awaiting task once (its waker is whoever calls wake), then finishes."""

    def __init__(self):
        self.parked = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.parked:
            raise StopIteration
        self.parked = True
        return core.PARK


def _round_trip(cs):
    """A waiter on a WaitCell woken three times; returns (events, scheduler, cell)."""
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    events = []

    async def waiter():
        for i in range(3):
            await cell.wait()
            events.append(("woken", i))
        return "done"

    h = s.spawn(waiter())
    s.tick()
    for _ in range(3):
        events.append(("wake", cell.wake()))
        t = s.tick()
        events.append(("tick", t.polled, t.woken))
    return events, s, h


def test_irq_section_gives_the_same_events_as_the_generic_path():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    assert cs.irq_direct
    events, s, h = _round_trip(cs)
    assert events == [
        ("wake", True), ("woken", 0), ("tick", 1, 1),
        ("wake", True), ("woken", 1), ("tick", 1, 1),
        ("wake", True), ("woken", 2), ("tick", 1, 1),
    ]
    assert h.result() == "done"
    assert m.irq == 1 and cs.depth == 0  # every section left, the mask restored
    # Every section the round took restored what it found: no enable before its disable.
    depth = 0
    for what, state in m.log:
        depth += 1 if what == "disable" else -1
        assert depth >= 0
        if what == "disable":
            assert state == (1 if depth == 1 else 0)  # only the outermost found IRQs on
    assert depth == 0 and len(m.log) > 12
    # The generic path (a subclass's enter/exit) gives the very same events.
    class CountingIrq(IrqCriticalSection):
        def enter(self):
            return IrqCriticalSection.enter(self)

    m2 = StateMachine()
    cs2 = CountingIrq(m2)
    assert not cs2.irq_direct
    assert _round_trip(cs2)[0] == events
    assert m2.log == m.log  # the same sections, in the same order, with the same states


def test_a_wake_inside_a_cell_section_nests_and_restores_the_mask():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    s = StaticScheduler(2, critical_section=cs)
    cell = WaitCell(cs)

    async def waiter():
        await cell.wait()

    s.spawn(waiter())
    s.tick()
    del m.log[:]
    assert cell.wake()  # the cell's section, and the scheduler's wake inside it
    assert m.log == [("disable", 1), ("disable", 0), ("enable", 0), ("enable", 1)]
    assert m.irq == 1 and cs.depth == 0


class _HeldProbe:
    """Stands in for a trace: the wake calls wake_locked inside its section."""

    def __init__(self, cs, machine):
        self.cs = cs
        self.machine = machine
        self.seen = []

    def wake_locked(self, sched, slot):
        self.seen.append((slot.id, self.cs.held(), self.cs.depth, self.machine.irq))


def test_held_is_true_and_irqs_masked_inside_the_wake():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    s = StaticScheduler(2, critical_section=cs)
    cell = WaitCell(cs)

    async def waiter():
        await cell.wait()

    h = s.spawn(waiter())
    s.tick()
    probe = _HeldProbe(cs, m)
    s._trace = probe  # (set_trace would switch the ticks too; only the wake is looked at)
    s._plain_slot = None  # (what set_trace sets beside it: the wake takes its traced form)
    try:
        core.wake(h._ref)  # the scheduler's own wake, not nested in a cell's section
    finally:
        s._trace = None
        s._plain_slot = TaskSlot
    assert probe.seen == [(h.id, True, 1, 0)]
    assert not cs.held() and m.irq == 1


def test_forwarded_wake_and_rewoken_task_leave_the_section():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    a = StaticScheduler(2, critical_section=cs)
    b = StaticScheduler(2, critical_section=cs)
    events = []

    async def self_waker():
        me = core.current_slot()
        core.wake(me)  # a wake while it runs: rewoken, so the park keeps it runnable
        await _ParkOnce()
        events.append("ran again")

    h = b.spawn(self_waker())
    b.tick()
    assert events == ["ran again"] and h.is_complete()

    async def waiter():
        await _ParkOnce()
        events.append("b's waiter")

    h2 = b.spawn(waiter())
    b.tick()
    a.wake(h2._ref)  # the wrong scheduler: forwarded to b after leaving a's section
    assert m.irq == 1 and cs.depth == 0
    b.tick()
    assert events == ["ran again", "b's waiter"]
    assert m.irq == 1 and cs.depth == 0


def test_a_subclass_keeps_its_own_wake_and_park():
    calls = []

    class Recording(StaticScheduler):
        def wake(self, slot):
            calls.append(("wake", slot.id))
            StaticScheduler.wake(self, slot)

        def _park(self, slot):
            calls.append(("park", slot.id))
            return StaticScheduler._park(self, slot)

    m = StateMachine()
    s = Recording(2, critical_section=IrqCriticalSection(m))
    cell = WaitCell(s.critical_section)

    async def waiter():
        await cell.wait()
        await yield_now()

    h = s.spawn(waiter())
    s.tick()
    cell.wake()
    s.tick()
    s.tick()
    assert h.is_complete()
    assert calls == [("park", h.id), ("wake", h.id)]
    assert m.irq == 1


@micropython_only
def test_the_irq_wake_round_allocates_nothing_even_inside_sections():
    machine = HeapLockingMachine()  # disable_irq locks the heap: a section may not allocate
    cs = IrqCriticalSection(machine)
    s = StaticScheduler(2, critical_section=cs)
    cell = WaitCell(cs)
    n = [0]

    async def waiter():
        while True:
            await cell.wait()
            n[0] += 1

    s.spawn(waiter())
    s.tick()

    def cycle():
        cell.wake()
        s.tick()

    cycle()
    heap_locked(cycle)
    assert alloc_delta(cycle) == 0
    assert n[0] >= 3 and machine.depth == 0 and cs.depth == 0
