"""An intrusive doubly linked list of task slots: the storage under every wait queue.

A slot is linked through its own ``wait_prev``/``wait_next`` fields and remembers the list in
``waiting_on``, so linking, unlinking (also by cancellation, from the middle) and popping cost
O(1) and allocate nothing. A slot is on at most one wait list at a time.
"""

import micropython

from .. import core


class WaitList:
    """FIFO of parked task slots. Callers provide mutual exclusion where an ISR is involved."""

    waits_for = 2  # what a task parked here waits on, for traces: trace.kinds.PARK_PRIMITIVE

    def __init__(self):
        self.head = None
        self.tail = None
        self.count = 0

    def push(self, slot):
        """Append ``slot``; it must not be on any wait list. ISR-safe only inside the
        critical section that guards this list (every primitive takes it)."""
        assert slot.waiting_on is None, "slot is already waiting"
        slot.waiting_on = self
        slot.dirty = True  # (its completion takes it off: sched/fastpath.py)
        slot.wait_next = None
        slot.wait_prev = self.tail
        if self.tail is None:
            self.head = slot
        else:
            self.tail.wait_next = slot
        self.tail = slot
        self.count += 1

    def remove(self, slot):
        """Unlink ``slot`` from this list (it must be on it). ISR-safe only inside the
        critical section that guards this list."""
        assert slot.waiting_on is self, "slot is not on this list"
        prev = slot.wait_prev
        nxt = slot.wait_next
        if prev is None:
            self.head = nxt
        else:
            prev.wait_next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.wait_prev = prev
        slot.wait_prev = None
        slot.wait_next = None
        slot.waiting_on = None
        self.count -= 1

    def pop(self):
        """Unlink and return the oldest slot, or None. ISR-safe only inside the critical
        section that guards this list."""
        slot = self.head
        if slot is not None:
            self.remove(slot)
        return slot

    def is_empty(self):
        """True if no slot is linked. ISR-safe (a read)."""
        return self.head is None


class JoinList(WaitList):
    """The tasks that join one task (``slot.joiners``): a ``WaitList`` a trace tells apart."""

    waits_for = 4  # trace.kinds.PARK_JOIN


@micropython.native
def wake_joiners(joiners, task_id, status, value, _join=core.JOIN):
    """Hand a finished task's outcome to every slot on ``joiners`` (its ``JoinList``) and wake
    each (``WaitList.pop`` and the wake, in line). Allocation-free; the completion's caller.
    Not ISR-safe (a joiner parked by ``core.JOIN`` is made WAITING without the section). A
    joiner of the join ring (``wait_phase`` 3, sched/owntick.py) ends its wait at once for a
    None, else gets the outcome by ``throw_exc`` ``core.JOIN`` (unless a throw is pending)."""
    joiner = joiners.head
    while joiner is not None:
        nxt = joiner.wait_next
        joiners.head = nxt
        if nxt is None:
            joiners.tail = None
        else:
            nxt.wait_prev = None
            joiner.wait_next = None
        joiner.waiting_on = None
        joiners.count -= 1
        if joiner.wait_phase == 3:  # (sched/owntick.py)
            if status == 2 and value is None:  # OK: the resumed await finds its ring empty
                joiner.wait_phase = 0
            else:
                joiner.wait_status = status
                joiner.wait_value = value
                joiner.throw_exc = _join  # (a pending cancel or expiry is never replaced:
                joiner.w[1] = 1  # _unwait took the joiner off this list first)
        else:
            joiner.wait_status = status
            joiner.wait_value = value
            joiner.wait_key = task_id
        waker = joiner.sched
        if waker is not None:
            if joiner.w[0] == 4:  # parked by core.JOIN (ASLEEP, which wake() ignores): its
                joiner.w[0] = 3  # scheduler's thread is this one; WAITING lets the wake through
            waker.wake(joiner)
        joiner = nxt
