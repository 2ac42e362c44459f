"""``PriorityPolicy``: fixed priorities, higher first, FIFO (or round-robin) among equals.

Priorities are ints from 0 to ``levels - 1``; a higher number is more urgent. The most urgent
runnable task always runs next; equals take turns in FIFO order, or round-robin with a time
slice when ``slice_us`` is given. A task made to yield at a ``preempt_point()`` because a more
urgent task became ready keeps its place at the front of its level.

Priority inheritance: a lock that blocks a more urgent ``waiter`` on ``holder`` calls
``inherit(holder, waiter)``; the holder runs at the waiter's priority (re-queued at once if
it is queued) until the lock calls ``restore(holder)`` on release.

Design note: one doubly linked queue per level (through ``run_next``/``run_prev``; the level
a slot is queued at is in ``queue_pos``) and a bitmap of non-empty levels; the most urgent
level is found with a 256-entry table, so add, pick, re-queue and remove are O(1) and
allocate nothing.
"""

import micropython
from micropython import const

from .. import core, port
from ..errors import BadPriority, PolicyError
from .accounting import PollStats
from .base import Policy, fields_of, make_fields
from .rr import check_slice

MAX_LEVELS = const(30)  # the bitmap stays a small int on 32-bit boards

# _HIGH[b]: index of the highest set bit of the byte b (0 for 0). A bytes constant: frozen,
# it stays in flash (a bytearray filled at import kept 272 B of heap).
_HIGH = (
    b"\0\0\1\1\2\2\2\2\3\3\3\3\3\3\3\3\4\4\4\4\4\4\4\4\4\4\4\4\4\4\4\4\5\5\5\5\5\5\5\5\5\5\5"
    b"\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\5\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6"
    b"\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\6\7"
    b"\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7"
    b"\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7"
    b"\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7\7"
)


class PriorityPolicy(Policy):
    """Fixed priorities 0..``levels - 1``, new tasks at ``default``. ``slice_us``: round-robin
    time slice among equals (None: FIFO among equals, cooperative). ``measure`` or ``hog_us``:
    poll accounting (always on with a slice)."""

    name = "priority"
    keeps_fields = True

    def __init__(self, levels=8, default=0, slice_us=None, measure=False, hog_us=None):
        if type(levels) is not int or levels < 1 or levels > MAX_LEVELS:
            raise PolicyError("levels must be an int from 1 to %d, got %r"
                              % (MAX_LEVELS, levels))
        self.levels = levels
        self.default = self._check(default)
        self.slice_us = None if slice_us is None else check_slice(slice_us)
        self.needs_time = slice_us is not None or measure or hog_us is not None
        self.stats = PollStats(hog_us) if self.needs_time else None
        self.heads = [None] * levels
        self.tails = [None] * levels
        self.bits = 0
        self._sched = None
        self._clock = None

    def _check(self, value):
        if type(value) is not int or value < 0 or value >= self.levels:
            raise BadPriority("a priority is an int from 0 (least urgent) to %d (most), got "
                              "%r: make the PriorityPolicy with more levels if you need them"
                              % (self.levels - 1, value))
        return value

    def check_priority(self, value):
        """Return ``value`` if it is a priority of this policy, else raise ``BadPriority``."""
        return self._check(value)

    def bind(self, sched):
        """Called by the scheduler: remember it and its clock. Not ISR-safe."""
        if self._sched is not None and self._sched is not sched:
            raise PolicyError("this policy already serves another scheduler: make one policy "
                              "object per scheduler")
        self._sched = sched
        self._clock = sched._clock_us
        make_fields(sched)

    # -- the level queues -------------------------------------------------------------------

    def _link_back(self, slot, level):
        slot.pol.queue_pos = level
        slot.run_next = None
        tail = self.tails[level]
        slot.run_prev = tail
        if tail is None:
            self.heads[level] = slot
            self.bits |= 1 << level
        else:
            tail.run_next = slot
        self.tails[level] = slot

    def _link_front(self, slot, level):
        slot.pol.queue_pos = level
        slot.run_prev = None
        head = self.heads[level]
        slot.run_next = head
        if head is None:
            self.tails[level] = slot
            self.bits |= 1 << level
        else:
            head.run_prev = slot
        self.heads[level] = slot

    def _unlink(self, slot):
        p = slot.pol
        level = p.queue_pos
        prev = slot.run_prev
        nxt = slot.run_next
        if prev is None:
            self.heads[level] = nxt
        else:
            prev.run_next = nxt
        if nxt is None:
            self.tails[level] = prev
        else:
            nxt.run_prev = prev
        if self.heads[level] is None:
            self.bits &= ~(1 << level)
        slot.run_next = None
        slot.run_prev = None
        p.queue_pos = -1

    def _move(self, slot, level):
        """Give ``slot`` the effective priority ``level``, re-queueing it if it is queued."""
        if fields_of(slot).queue_pos >= 0:
            self._unlink(slot)
            slot.priority = level
            self._link_back(slot, level)
        else:
            slot.priority = level

    def _fresh(self, slot):
        # First sight of a new task, at its first add() or an earlier set_priority() (a task
        # spawned by a running task reaches add() only when the inbox is drained).
        p = fields_of(slot)
        p.policy_task = slot.id
        slot.priority = self.default
        slot.base_priority = self.default
        slot.inherited = None
        p.preempted = False

    # -- the policy interface ---------------------------------------------------------------

    def add(self, slot):
        """A task became runnable: back of its level, fresh slice. A new task gets the
        default priority (``set_priority`` or ``build_task().priority(p)`` changes it).
        Not ISR-safe."""
        p = slot.pol
        if p is None or p.policy_task != slot.id:
            self._fresh(slot)
            p = slot.pol
        if self.slice_us is not None:
            p.slice_left = self.slice_us
        self._link_back(slot, slot.priority)

    def put_back(self, slot, preempted):
        """A polled task yielded: front of its level if a preemption point made it yield
        with slice left, else back with a fresh slice (behind the tasks woken during its
        turn if the slice ran out). Not ISR-safe."""
        rr = self.slice_us
        p = slot.pol
        if preempted or p.preempted:
            p.preempted = False
            if rr is None or p.slice_left > 0:
                self._link_front(slot, slot.priority)
                return
            if self._sched._inbox_head is not None:
                self._sched._drain_inbox()  # tasks woken during its slice go first
        if rr is not None:
            p.slice_left = rr
        level = slot.priority  # _link_back, inline: this runs on every poll
        p.queue_pos = level
        slot.run_next = None
        tail = self.tails[level]  # (no more locals: past 11 words the frame is a heap block)
        slot.run_prev = tail
        if tail is None:
            self.heads[level] = slot
            self.bits |= 1 << level
        else:
            tail.run_next = slot
        self.tails[level] = slot

    def pick(self):
        """Unlink and return the oldest task of the most urgent level, or None.
        Not ISR-safe."""
        bits = self.bits
        if not bits:
            return None
        if bits >> 16:
            if bits >> 24:
                level = 24 + _HIGH[bits >> 24]
            else:
                level = 16 + _HIGH[bits >> 16]
        elif bits >> 8:
            level = 8 + _HIGH[bits >> 8]
        else:
            level = _HIGH[bits]
        slot = self.heads[level]
        nxt = slot.run_next
        self.heads[level] = nxt
        if nxt is None:
            self.tails[level] = None
            self.bits = bits & ~(1 << level)
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
        self._unlink(slot)
        return True

    def has_ready(self):
        """Whether a task is queued. Not ISR-safe."""
        return self.bits != 0

    def charge(self, slot, elapsed_us):
        """Account one poll; with a slice, True once it is used up. Not ISR-safe."""
        if elapsed_us < 0:
            elapsed_us = 0
        self.stats.record(slot, elapsed_us)
        if self.slice_us is None:
            return False
        p = slot.pol
        left = p.slice_left - elapsed_us
        p.slice_left = left
        return left <= 0

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def should_yield(self, slot):
        """True if a more urgent task is ready (queued, or woken since the poll began), or
        an equal one is and the running task's slice is used up. Not ISR-safe."""
        level = slot.priority
        if self.bits >> (level + 1):
            return True
        peer = self.heads[level] is not None
        woken = self._sched._inbox_head
        while woken is not None:
            lv = woken.priority
            wp = woken.pol
            if wp is None or wp.policy_task != woken.id:
                lv = self.default  # a new task: its slot still has the last task's priority
            if lv >= level:
                if lv > level:
                    return True
                peer = True
            woken = woken.inbox_next
        if peer and self.slice_us is not None:
            used = port.ticks_diff(self._clock(), core.current_context().poll_start)
            return used >= slot.pol.slice_left
        return False

    def set_priority(self, slot, value):
        """Set the task's own priority (raises ``BadPriority`` outside 0..levels-1); a loan
        from inheritance stays in force if it is higher. Not ISR-safe."""
        self._check(value)
        p = slot.pol
        if p is None or p.policy_task != slot.id:
            self._fresh(slot)
        slot.base_priority = value
        loan = slot.inherited
        if loan is not None and loan > value:
            value = loan
        if value != slot.priority:
            self._move(slot, value)
        return True

    def inherit(self, holder, waiter):
        """Lend ``waiter``'s priority to ``holder`` if it is higher (capped at the top level:
        the waiter may run under another scheduler's policy). Not ISR-safe."""
        level = waiter.priority
        if level >= self.levels:
            level = self.levels - 1
        if level > holder.priority:
            holder.inherited = level
            self._move(holder, level)

    def restore(self, holder):
        """End any loan: ``holder`` runs at its own priority again. Not ISR-safe."""
        holder.inherited = None
        if holder.priority != holder.base_priority:
            self._move(holder, holder.base_priority)

    def loan(self, holder, waiter):
        """Set ``holder``'s loan to ``waiter``'s priority (capped at the top level), or end it
        (``waiter`` None, or no higher than the holder's own). Not ISR-safe."""
        level = holder.base_priority
        holder.inherited = None
        if waiter is not None:
            lent = waiter.priority
            if lent >= self.levels:
                lent = self.levels - 1
            if lent > level:
                holder.inherited = lent
                level = lent
        if level != holder.priority:
            self._move(holder, level)

    def more_urgent(self, a, b):
        """True if task ``a`` has a higher effective priority than ``b``. ISR-safe."""
        return a.priority > b.priority
