# Helpers for the sync-primitive tests: drive a scheduler until idle, record policy hooks,
# and a fake `machine` whose disable_irq locks the heap (so allocating inside a critical
# section raises MemoryError on MicroPython).
from shimeji import FifoPolicy


def drain(s, limit=1000):
    """Tick until no task is runnable; returns the number of ticks (bounded)."""
    n = 0
    while n < limit:
        n += 1
        if not s.tick().has_remaining:
            return n
    raise AssertionError("scheduler still busy after %d ticks" % limit)


class RecordingPolicy(FifoPolicy):
    """FIFO that records priority-inheritance calls as (what, holder_id, waiter_id or 0)."""

    def __init__(self):
        FifoPolicy.__init__(self)
        self.events = []

    def inherit(self, holder, waiter):
        self.events.append(("inherit", holder.id, waiter.id))

    def restore(self, holder):
        self.events.append(("restore", holder.id))

    def loan(self, holder, waiter):
        self.events.append(("loan", holder.id, 0 if waiter is None else waiter.id))


class HeapLockingMachine:
    """A stand-in `machine`: disable_irq locks the heap, enable_irq unlocks it. Nesting works:
    MicroPython counts heap_lock depth. `depth` tracks it for assertions."""

    def __init__(self):
        import micropython

        self._lock = micropython.heap_lock
        self._unlock = micropython.heap_unlock
        self.depth = 0
        self.entered = 0

    def disable_irq(self):
        self._lock()
        self.depth += 1
        self.entered += 1
        return self.depth - 1

    def enable_irq(self, state):
        self.depth = state
        self._unlock()


class StateMachine:
    """A stand-in `machine` that records the interrupt mask: 1 enabled, 0 disabled."""

    def __init__(self):
        self.irq = 1
        self.log = []

    def disable_irq(self):
        was = self.irq
        self.irq = 0
        self.log.append(("disable", was))
        return was

    def enable_irq(self, state):
        self.irq = state
        self.log.append(("enable", state))
