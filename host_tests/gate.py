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
