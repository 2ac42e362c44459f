# A critical section's exit is certain in the schedulers' own paths too: a traced wake whose
# record raises (or overflows the stack), at thread and interrupt level, a MemoryError in a
# cancel, a policy (code the section cannot trust) and an executor worker's ring that raises:
# the section is never left held, and the task woken or waiting is not lost.
from criticalhelp import Boom, live_slot, section_free
from shimeji import (
    InterruptScheduler,
    RoundRobinPolicy,
    StaticScheduler,
    Trace,
    WaitCell,
    port,
    yield_now,
)
from support import heap_locked, micropython_only, needs_threads, raises
from support import thread_section as _section
from synchelp import drain


class _Clock:
    def __init__(self):
        self.t = 0
        self.fail = False

    def __call__(self):
        if self.fail:
            self.fail = False
            raise Boom("clock failed")
        self.t += 1
        return self.t


async def _cell_waiter(cell, log):
    await cell.wait()
    log.append("woke")


def test_traced_wake_whose_record_raises_still_wakes_and_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    clock = _Clock()
    tr = Trace(32, clock_us=clock)  # a few records: the default 512 (8 KB) did not fit the
    tr.attach(s)  # STM32L475's heap by this point of the module
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)
    clock.fail = True
    assert cell.wake() is True  # the side record is dropped: the wake itself went through
    section_free(cs)
    with raises(Boom):
        tr.drain()  # the clock's exception, raised outside any section
    drain(s)
    assert log == ["woke"] and live_slot(h) is None


def test_traced_wake_whose_record_call_overflows_the_stack_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    tr = Trace(32)  # (as above: 8 KB did not fit the STM32L475's heap here)
    tr.attach(s)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)

    def overflow(sched, slot):
        raise RuntimeError("maximum recursion depth exceeded")

    tr.wake_locked = overflow  # what a small core-1 stack did inside the section
    with raises(RuntimeError, "recursion"):
        cell.wake()
    del tr.wake_locked
    section_free(cs)
    drain(s)  # queued before the record, the task runs, finds itself still the waiter
    assert log == [] and cell.waiter is live_slot(h)  # (WaitCell took the wake back)
    assert cell.wake() is True
    drain(s)
    assert log == ["woke"]


@micropython_only
def test_no_section_is_left_held_by_a_memory_error_in_a_cancel():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)
    try:
        heap_locked(h.cancel)
    except MemoryError:
        pass
    section_free(cs)
    h.cancel()
    drain(s)
    assert log == [] and h.is_complete()


class _SectionCheckingPolicy(RoundRobinPolicy):
    """A pluggable policy that records every call made while the section is held: a policy
    is code the section cannot trust (it may raise)."""

    def __init__(self, cs):
        RoundRobinPolicy.__init__(self)
        self.cs = cs
        self.inside = []
        self.calls = 0

    def _note(self, what):
        self.calls += 1
        if self.cs.held():
            self.inside.append(what)

    def add(self, slot):
        self._note("add")
        return RoundRobinPolicy.add(self, slot)

    def pick(self):
        self._note("pick")
        return RoundRobinPolicy.pick(self)

    def remove(self, slot):
        self._note("remove")
        return RoundRobinPolicy.remove(self, slot)

    def has_ready(self):
        self._note("has_ready")
        return RoundRobinPolicy.has_ready(self)


def test_the_policy_is_asked_outside_the_section_at_either_level():
    cs = _section()
    log = []
    for make in (lambda p: StaticScheduler(4, policy=p, critical_section=cs),
                 lambda p: InterruptScheduler(4, policy=p, critical_section=cs)):
        policy = _SectionCheckingPolicy(cs)
        s = make(policy)
        cell = WaitCell(cs)

        async def waiter(cell):
            await cell.wait()
            log.append("woke")
            await yield_now()

        h = s.spawn(waiter(cell))
        for _ in range(3):
            port.check_point()  # (the interrupt level runs here)
            if not hasattr(s, "service"):
                drain(s)
        cell.wake()
        for _ in range(3):
            port.check_point()
            if hasattr(s, "service"):
                s.service()
            else:
                drain(s)
        assert h.is_complete(), type(s).__name__
        # Only the interrupt level's spawn adds its task inside its section (under a
        # finally); nothing asks the policy inside one (poll_all used to: has_ready).
        want = ["add"] if hasattr(s, "service") else []
        assert policy.calls > 3 and policy.inside == want, (type(s).__name__, policy.inside)
        section_free(cs)
    assert log == ["woke", "woke"]


def test_interrupt_level_traced_wake_whose_record_raises_leaves_the_section():
    cs = _section()
    isr = InterruptScheduler(4, critical_section=cs)
    tr = Trace(32)  # (as above: 8 KB did not fit the qemu firmware's heap either)
    tr.attach(isr)
    cell = WaitCell(cs)
    log = []
    h = isr.spawn(_cell_waiter(cell, log))
    port.check_point()
    isr.service()

    def overflow(sched, slot):
        raise RuntimeError("maximum recursion depth exceeded")

    tr.wake_locked = overflow
    with raises(RuntimeError, "recursion"):
        cell.wake()
    del tr.wake_locked
    section_free(cs)
    assert cell.wake() is True  # (WaitCell took the failed wake back)
    for _ in range(3):
        port.check_point()
        isr.service()
    assert log == ["woke"] and h.is_complete()
    tr.detach()
    isr.close()


class _RaisingBell:
    def release(self):
        raise Boom("bell failed")


@needs_threads
def test_executor_ring_that_raises_leaves_the_section():
    from shimeji import Executor

    ex = Executor(workers=2, capacity=4)
    try:
        w = ex.workers[1]
        cs = ex.critical_section
        bell = w._bell
        w.sleeping = True
        ex.sleepers += 1
        w._bell = _RaisingBell()
        with raises(Boom):
            w.ring()
        w._bell = bell
        section_free(cs)
        assert not w.sleeping and ex.sleepers == 0  # rung: its flag and count agree
    finally:
        ex.close()
