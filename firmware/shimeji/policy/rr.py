"""``RoundRobinPolicy``: FIFO order with a time slice per turn.

Every poll is charged its measured run time (the scheduler's µs clock) against the task's
slice. A task that yields with its slice used up goes to the back with a fresh slice; so does
a task that yields of its own accord (``yield_now``) or is woken. A task that a preemption
point made yield before its slice was used up (``put_back(slot, True)`` with slice left)
keeps its place at the front, as in the reference design.

A cooperative runtime cannot interrupt a poll: the slice takes effect at the task's next
``await`` (``yield_now``) or ``await preempt_point()``, which yields only once the slice is
used up and other tasks are ready.

The run queue is a doubly linked list through ``run_next``/``run_prev``: add, pick, put back
and remove are O(1) and allocate nothing.
"""

from micropython import const

from .. import core, port
from ..errors import PolicyError
from .accounting import PollStats
from .base import Policy, fields_of, make_fields

_MAX_US = const(0x3FFFFFFF)
DEFAULT_SLICE_US = const(10000)


def check_slice(slice_us):
    """Return ``slice_us`` if it is a usable time slice, else raise ``PolicyError``."""
    if type(slice_us) is not int or slice_us < 1 or slice_us > _MAX_US:
        raise PolicyError("the time slice must be a positive int of microseconds (e.g. "
                          "10000 for 10 ms), got %r" % (slice_us,))
    return slice_us


class RoundRobinPolicy(Policy):
    """Round-robin with ``slice_us`` µs per turn; ``hog_us``: hog budget (see PollStats)."""

    needs_time = True
    name = "round-robin"
    keeps_fields = True

    def __init__(self, slice_us=DEFAULT_SLICE_US, hog_us=None):
        self.slice_us = check_slice(slice_us)
        self.stats = PollStats(hog_us)
        self.head = None
        self.tail = None
        self._sched = None
        self._clock = None

    def bind(self, sched):
        """Called by the scheduler: remember it and its clock. Not ISR-safe."""
        if self._sched is not None and self._sched is not sched:
            raise PolicyError("this policy already serves another scheduler: make one policy "
                              "object per scheduler")
        self._sched = sched
        self._clock = sched._clock_us
        make_fields(sched)

    def add(self, slot):
        """A task became runnable (spawned or woken): back of the queue, fresh slice.
        Not ISR-safe (wakes from interrupts reach the policy through the inbox)."""
        p = slot.pol
        if p is None:
            p = fields_of(slot)  # a slot first met here (grown, a caller's): once per slot
        if p.policy_task != slot.id:
            p.policy_task = slot.id
            p.preempted = False
        self._link_back(slot, p)

    def _link_back(self, slot, p):
        # Back of the queue with a fresh slice.
        p.slice_left = self.slice_us
        p.queue_pos = 0
        slot.run_next = None
        tail = self.tail
        slot.run_prev = tail
        if tail is None:
            self.head = slot
        else:
            tail.run_next = slot
        self.tail = slot

    def put_back(self, slot, preempted):
        """A polled task yielded: front if preempted with slice left, else back (behind the
        tasks woken during its turn if the slice ran out). Not ISR-safe."""
        p = slot.pol
        if (preempted or p.preempted) and p.slice_left > 0:
            p.preempted = False
            p.queue_pos = 0
            head = self.head
            slot.run_prev = None
            slot.run_next = head
            if head is None:
                self.tail = slot
            else:
                head.run_prev = slot
            self.head = slot
            return
        if (preempted or p.preempted) and self._sched._inbox_head is not None:
            self._sched._drain_inbox()  # tasks woken during its slice go first
        p.preempted = False
        self._link_back(slot, p)

    def pick(self):
        """Unlink and return the task at the front, or None. Not ISR-safe."""
        slot = self.head
        if slot is not None:
            nxt = slot.run_next
            self.head = nxt
            if nxt is None:
                self.tail = None
            else:
                nxt.run_prev = None
            slot.run_next = None
            slot.pol.queue_pos = -1
        return slot

    def remove(self, slot):
        """Unlink a queued task; False if it was not queued here. Not ISR-safe."""
        p = slot.pol
        if p is None or p.queue_pos < 0:
            return False
        prev = slot.run_prev
        nxt = slot.run_next
        if prev is None:
            self.head = nxt
        else:
            prev.run_next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.run_prev = prev
        slot.run_next = None
        slot.run_prev = None
        p.queue_pos = -1
        return True

    def has_ready(self):
        """Whether a task is queued. Not ISR-safe."""
        return self.head is not None

    def charge(self, slot, elapsed_us):
        """Account one poll; True once the slice is used up. Not ISR-safe."""
        if elapsed_us < 0:
            elapsed_us = 0
        self.stats.record(slot, elapsed_us)
        p = slot.pol
        left = p.slice_left - elapsed_us
        p.slice_left = left
        return left <= 0

    def should_yield(self, slot):
        """True when the running task's slice is used up and another task is ready.
        Not ISR-safe."""
        if self.head is None and self._sched._inbox_head is None:
            return False
        used = port.ticks_diff(self._clock(), core.current_context().poll_start)
        return used >= slot.pol.slice_left
