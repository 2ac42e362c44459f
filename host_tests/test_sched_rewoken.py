# A wake that lands while a finished task's slot is being freed must not give the next task in
# that slot a spurious wake (_complete once cleared `rewoken` before the slot was free). The
# completion now writes FREE, then clears rewoken (words 0 and 2 of the slot's words,
# task/words.py); a wake injected at its last attribute store before them (``coro = None``)
# and one at its first after them (``sched = None``) must both leave nothing for the next task.
from gate import Gate
from shimeji import StaticScheduler, TaskSlot


class WakeWhileFreeing(TaskSlot):
    """A slot that plays an interrupt: the moment the completion stores ``when`` (None) into
    its ``coro`` or its ``sched``, a wake arrives (as a handler's could, between two
    statements)."""

    def __init__(self, when):
        self.armed = False
        self.when = when
        self.seen_by_wake = []
        TaskSlot.__init__(self)

    def _hook(self, name, value):
        if value is None and self.armed and name == self.when:
            self.armed = False
            self.seen_by_wake.append(self.w[0])
            self.waker.wake(self)  # (its scheduler: a caller-owned slot's owner is not)

    @property
    def coro(self):
        return self._coro

    @coro.setter
    def coro(self, value):
        self._hook("coro", value)
        self._coro = value

    @property
    def sched(self):
        return self._sched

    @sched.setter
    def sched(self, value):
        self._hook("sched", value)
        self._sched = value


def _run(when):
    s = StaticScheduler(2)
    s._plain_slot = WakeWhileFreeing  # (its wake in line, as a TaskSlot's; a subclass: aside)
    slot = WakeWhileFreeing(when)
    slot.waker = s
    log = []

    async def quick():
        log.append("quick")

    gate = Gate()

    async def parked():
        log.append("parked")
        await gate  # parks until the gate opens; a spurious wake re-polls it at once
        log.append("resumed")

    s.spawn_allocated(slot, quick(), None, True)
    slot.armed = True
    s.tick()
    assert log == ["quick"] and slot.w[2] == 0 and not slot.armed
    s.spawn_allocated(slot, parked(), None, True)
    s.tick()
    t = s.tick()
    assert t.polled == 0 and log == ["quick", "parked"]
    gate.open()
    s.tick()
    assert log == ["quick", "parked", "resumed"]
    return slot.seen_by_wake


def test_a_wake_while_the_slot_is_freed_is_not_kept_for_the_next_task():
    assert _run("coro") == [2]  # RUNNING: the wake set rewoken, which the completion cleared


def test_a_wake_right_after_the_slot_is_free_is_a_no_op():
    assert _run("sched") == [0]  # FREE: the wake did nothing
