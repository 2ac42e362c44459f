"""Scheduling policies: which runnable task runs next.

A policy sees only runnable tasks. The scheduler calls it from its own context, never from
an interrupt handler (interrupt-side wakes land in the scheduler's inbox first), so a policy
needs no locking. Every method must be allocation-free: they run on every poll.

Interface (after the scheduler-policy reference):

- ``bind(sched)``: called once by the scheduler; preallocate here.
- ``add(slot)``: a task became runnable (spawned or woken).
- ``remove(slot)``: a runnable task leaves (cancelled while queued, scheduler closed).
- ``pick()``: the next task to poll, unlinked, or None.
- ``put_back(slot, preempted)``: a polled task that is still runnable (it yielded).
  ``preempted`` is True when ``charge`` asked it to yield.
- ``charge(slot, elapsed_us)``: account one poll of ``elapsed_us`` microseconds; return True
  if the task's share is used up. Called only when ``needs_time`` is True.
- ``set_priority(slot, value)``: True if the policy uses priorities and accepted the value.
- ``check_priority(value)``: raise ``BadPriority`` unless ``set_priority`` would accept
  ``value`` (the builder checks before it spawns).
- ``has_ready()``: whether any task is runnable.
- ``inherit(holder, waiter)`` / ``restore(holder)``: priority inheritance. A lock whose holder
  blocks ``waiter`` lends the waiter's priority to ``holder``; ``restore`` ends the loan when
  the lock is released. No-ops for policies without priorities.
- ``loan(holder, waiter)``: make the holder's loan exactly what ``waiter`` lends (None: no
  loan), up or down; ``more_urgent(a, b)``: whether task ``a`` runs before ``b`` by priority.
  A Mutex recomputes a holder's loan with these when a waiter leaves or a lock is released.
- ``should_yield(slot)``: asked by ``preempt_point()`` from inside the running task: True if
  the task should give up the CPU now (slice used up, a more urgent task is ready). When it
  yields there, ``preempt_point`` sets ``slot.preempted``; ``put_back`` reads and clears it.
- ``stats``: a ``PollStats`` (accounting.py) when the policy measures polls, else None.

The policies: ``FifoPolicy`` (fifo.py), ``RoundRobinPolicy`` (rr.py), ``CfsPolicy`` (cfs.py),
``PriorityPolicy`` (priority.py). See docs/policies.md for when to use which.
"""

from ..errors import PolicyError


class Policy:
    """Base class: documents the interface and gives the defaults."""

    needs_time = False
    name = "policy"
    stats = None
    _sched = None

    def bind(self, sched):
        """Called by the scheduler. A policy serves one scheduler: a second raises
        ``PolicyError`` (two schedulers would share one run queue). Not ISR-safe."""
        if self._sched is not None and self._sched is not sched:
            raise PolicyError("this %s policy already serves another scheduler: make one "
                              "policy object per scheduler" % self.name)
        self._sched = sched

    def charge(self, slot, elapsed_us):
        return False

    def should_yield(self, slot):
        return False

    def set_priority(self, slot, value):
        return False

    def check_priority(self, value):
        return value

    def inherit(self, holder, waiter):
        pass

    def restore(self, holder):
        pass

    def loan(self, holder, waiter):
        # A policy that defines only inherit/restore keeps working: end the loan, lend anew.
        self.restore(holder)
        if waiter is not None:
            self.inherit(holder, waiter)

    def more_urgent(self, a, b):
        return False
