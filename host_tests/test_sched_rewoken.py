# A wake that lands while a finished task's slot is being freed must not give the next task in
# that slot a spurious wake (_complete cleared `rewoken` before the slot was free).
from gate import Gate
from shimeji import StaticScheduler, TaskSlot


class WakeWhileFreeing(TaskSlot):
    """A slot that plays an interrupt: the moment the scheduler clears ``rewoken`` while
    freeing it, a wake arrives (as a handler's could, between two statements)."""

    def __init__(self):
        self.armed = False
        self._rewoken = False
        TaskSlot.__init__(self)

    @property
    def rewoken(self):
        return self._rewoken

    @rewoken.setter
    def rewoken(self, value):
        self._rewoken = value
        if not value and self.armed:
            self.armed = False
            self.owner.wake(self)


def test_a_wake_while_the_slot_is_freed_is_not_kept_for_the_next_task():
    s = StaticScheduler(2)
    slot = WakeWhileFreeing()
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
    assert log == ["quick"] and not slot.rewoken
    s.spawn_allocated(slot, parked(), None, True)
    s.tick()
    t = s.tick()
    assert t.polled == 0 and log == ["quick", "parked"]
    gate.open()
    s.tick()
    assert log == ["quick", "parked", "resumed"]
