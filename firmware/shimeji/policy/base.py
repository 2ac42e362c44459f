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
  yields there, ``preempt_point`` sets ``slot.pol.preempted``; ``put_back`` reads and clears
  it.
- per-task fields: a policy that keeps any (``keeps_fields``) finds them in ``slot.pol``, a
  ``PolicyFields`` made for every pool slot at ``bind`` (``fields_of`` for any other slot).
- ``stats``: a ``PollStats`` (accounting.py) when the policy measures polls, else None.

The policies: ``FifoPolicy`` (fifo.py), ``RoundRobinPolicy`` (rr.py), ``CfsPolicy`` (cfs.py),
``PriorityPolicy`` (priority.py). See docs/policies.md for when to use which.
"""

from ..errors import PolicyError


class PolicyFields:
    """A task slot's policy and accounting fields (``slot.pol``), kept off the slot itself.

    Only the round-robin, CFS and priority policies and a measuring FIFO read them; plain
    FIFO never does, and a slot without these 12 names fits MicroPython's next smaller
    attribute table (docs/benchmarks.md, "Task slot size"). Such a policy makes one per pool
    slot at ``bind``; a slot it meets later (grown, or a caller's) gets one at its first use
    (``fields_of``). ``slot`` links back: the CFS heap holds these, not slots."""

    def __init__(self, slot):
        self.slot = slot
        # The slot's own entries for its priority names (class-level defaults on TaskSlot):
        # made here, when the slot gets its fields (at bind, or its first use: one allocation
        # then), so a policy's stores per spawn never grow the slot's attribute table.
        slot.priority = slot.priority
        slot.base_priority = slot.base_priority
        slot.inherited = slot.inherited
        self.weight = 1024  # CFS weight of the effective nice value
        self.vruntime = 0  # CFS virtual run time (µs at nice 0)
        self.vrem = 0  # CFS remainder of the last division, so no µs is lost
        self.slice_left = 0  # µs left of the round-robin time slice
        self.queue_pos = -1  # heap index or level in the policy's queue; -1 when not in it
        self.seq = 0  # insertion order: FIFO among equal keys
        self.preempted = False  # set by preempt_point when it made the task yield
        self.policy_task = 0  # id of the task these fields were last set up for
        self.polls = 0  # accounting (timed policies): polls, µs in total, longest poll
        self.run_total_us = 0
        self.run_max_us = 0
        self.hogs = 0  # polls longer than the policy's hog budget


def fields_of(slot):
    """``slot.pol``, made at the slot's first use under a policy that keeps fields (allocates
    that once per slot). Not ISR-safe: policies run in the scheduler's context."""
    p = slot.pol
    if p is None:
        p = PolicyFields(slot)
        slot.pol = p
    return p


def make_fields(sched):
    """Give every pool slot of ``sched`` its ``PolicyFields``, or zero the poll counts of the
    one it has (at ``bind``, with no task live: a spawn under plain FIFO leaves them). Not
    ISR-safe."""
    for slot in sched.slots:
        if slot.pol is None:
            slot.pol = PolicyFields(slot)
        else:
            slot.pol.polls = 0


class Policy:
    """Base class: documents the interface and gives the defaults."""

    needs_time = False
    keeps_fields = False  # True: reads slot.pol (PolicyFields), made for the pool at bind
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
        if self.keeps_fields:
            make_fields(sched)

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
