"""First-in first-out: the default policy, and the one the scheduler's fast path runs inline
(``sched/fastpath.py``) when no timing is asked for."""

from .base import Policy


class FifoPolicy(Policy):
    """Cooperative first-in first-out: O(1) everything, through the slots' own links.

    ``measure=True`` (or a ``hog_us`` budget) turns on poll accounting (``self.stats``): the
    scheduler then times every poll. Off by default, so plain FIFO never reads the clock."""

    name = "fifo"

    def __init__(self, measure=False, hog_us=None):
        self.head = None
        self.tail = None
        if measure or hog_us is not None:  # (accounting.py loaded only then: ~580 B of heap
            from .accounting import PollStats  # that a plain FIFO scheduler does not keep)

            self.stats = PollStats(hog_us)
            self.needs_time = True
            self.keeps_fields = True  # the poll counts live in slot.pol

    def charge(self, slot, elapsed_us):
        """Record one poll in ``stats`` (only with measuring on). Not ISR-safe."""
        if elapsed_us < 0:  # a clock that stepped back
            elapsed_us = 0
        self.stats.record(slot, elapsed_us)
        return False

    def add(self, slot, preempted=False):
        slot.run_next = None
        tail = self.tail
        if tail is None:
            self.head = slot
        else:
            tail.run_next = slot
        self.tail = slot

    put_back = add

    def pick(self):
        slot = self.head
        if slot is not None:
            nxt = slot.run_next
            self.head = nxt
            if nxt is None:
                self.tail = None
            slot.run_next = None
        return slot

    def remove(self, slot):
        prev = None
        cur = self.head
        while cur is not None:
            if cur is slot:
                nxt = cur.run_next
                if prev is None:
                    self.head = nxt
                else:
                    prev.run_next = nxt
                if nxt is None:
                    self.tail = prev
                slot.run_next = None
                return True
            prev = cur
            cur = cur.run_next
        return False

    def has_ready(self):
        return self.head is not None
