# A minimal one-waiter parking awaitable, for tests of the scheduler's wake path.
from shimeji import core


class Gate:
    """``await gate`` parks until ``gate.open()``; a spurious wake parks again."""

    def __init__(self):
        self.slot = None
        self.is_open = False
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        # Register before looking: an opener on another thread then either sees the slot and
        # wakes it, or opened before the check below sees it. No wake can fall in between.
        self.slot = core.current_slot()
        if self.is_open:
            self.is_open = False
            self.slot = None
            raise self._finish.done()
        return core.PARK

    def open(self):
        self.is_open = True
        slot = self.slot
        if slot is not None:
            core.wake(slot)


class ThreadGate(Gate):
    """A ``Gate`` opened from another thread. The waiter stores ``slot`` then loads
    ``is_open``; the opener stores ``is_open`` then loads ``slot``. On MicroPython's unix port
    (no GIL) x86 may let each load pass the other thread's store still in its store buffer:
    both see the old value and the wake is lost (the one interleaving Gate cannot survive).
    Here each pair runs under a ``_thread`` lock, whose acquire and release are barriers."""

    def __init__(self):
        import _thread

        Gate.__init__(self)
        self._lock = _thread.allocate_lock()

    def __next__(self):
        with self._lock:
            self.slot = core.current_slot()
            if self.is_open:
                self.is_open = False
                self.slot = None
                raise self._finish.done()
        return core.PARK

    def open(self):
        with self._lock:
            self.is_open = True
            slot = self.slot
        if slot is not None:
            core.wake(slot)
