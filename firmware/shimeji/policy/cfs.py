"""``CfsPolicy``: completely fair scheduling with nice values, after Linux's CFS.

Each poll's measured run time is charged to the task's *virtual run time*, scaled by the
weight of its nice value (Linux's table: nice 0 weighs 1024, each step is about 1.25x), and
the task with the least virtual run time runs next. Over time every task gets CPU in
proportion to its weight: nice 0 against nice 5 is 1024:335, about 3:1.

A new task starts at the queue's minimum virtual run time, and a woken task no further back
than ``wake_bonus_us`` behind it, so a task that slept cannot bank credit and then hog the
CPU. ``preempt_point()`` yields once the running task is ``granularity_us`` ahead of the
next one.

Design note: the run queue is a binary min-heap over a list made at ``bind`` (keyed by
virtual run time, then insertion order). It holds the slots' ``PolicyFields`` (``slot.pol``,
policy/base.py), each storing its index in ``queue_pos`` and linking back to its slot, so the
sifts compare fields with no hop through the slot: pick, put back and remove are O(log n)
and allocate nothing. Virtual run times are in µs at nice 0
and stay below 2**30: when the minimum passes 2**29, every live task is shifted down by 2**28
(an O(n) pass that happens after minutes of CPU time at the soonest).
"""

import micropython
from micropython import const

from .. import core, port
from ..errors import BadPriority, PolicyError
from .accounting import PollStats
from .base import Policy, fields_of, make_fields

# Linux's sched_prio_to_weight, nice -20 .. 19. Built from a list on purpose: a constant
# tuple is frozen by MicroPython's mpy-tool.py with every int beyond +-8191 as a long-int
# object, and arithmetic on those allocates a heap int per operation (nice -20 then raised
# MemoryError in tick() under heap_lock). A list literal is built from small ints at import.
NICE_TO_WEIGHT = tuple([
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
    1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
    110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
])
NICE_MIN = const(-20)
NICE_MAX = const(19)
_MAX_CHARGE = const(0x7FFFF)  # µs charged for one poll at most, so us * 1024 stays small
_RENORM_AT = const(0x20000000)
_RENORM_BY = const(0x10000000)
_MAX_US = const(0x3FFFFFFF)
# Public copies of the bounds (``const`` names are not module attributes on MicroPython):
# ``MAX_CHARGE_US * 1024 + 88761`` and ``RENORM_AT`` plus two full charges at nice 19 stay
# below 2**30 (host_tests/test_core_small_ints.py checks both).
MAX_CHARGE_US = _MAX_CHARGE
RENORM_AT = _RENORM_AT


def check_nice(value):
    """Return ``value`` if it is a nice value (-20..19), else raise ``BadPriority``."""
    if type(value) is not int or value < NICE_MIN or value > NICE_MAX:
        raise BadPriority("a nice value is an int from -20 (most CPU) to 19 (least); 0 is "
                          "the default. Got %r" % (value,))
    return value


class CfsPolicy(Policy):
    """Fair shares by nice value. ``granularity_us``: how far ahead of the next task the
    running one may get before ``preempt_point()`` yields; ``wake_bonus_us``: how far behind
    the minimum a woken task may start; ``hog_us``: hog budget (see PollStats)."""

    needs_time = True
    name = "cfs"
    keeps_fields = True

    def __init__(self, granularity_us=1000, wake_bonus_us=3000, hog_us=None):
        for arg, v in (("granularity_us", granularity_us), ("wake_bonus_us", wake_bonus_us)):
            if type(v) is not int or v < 0 or v > _MAX_CHARGE:
                raise PolicyError("%s must be an int of microseconds from 0 to %d, got %r"
                                  % (arg, _MAX_CHARGE, v))
        self.granularity = granularity_us
        self.wake_bonus = wake_bonus_us
        self.stats = PollStats(hog_us)
        self.min_vruntime = 0
        self.heap = []
        self.n = 0
        self._seq = 0
        self._sched = None
        self._clock = None

    def bind(self, sched):
        """Called by the scheduler: remember it, size the heap. Not ISR-safe."""
        if self._sched is not None and self._sched is not sched:
            raise PolicyError("this policy already serves another scheduler: make one policy "
                              "object per scheduler")
        self._sched = sched
        self._clock = sched._clock_us
        if len(self.heap) < sched.capacity:
            self.heap = [None] * sched.capacity
        make_fields(sched)

    # -- the heap ---------------------------------------------------------------------------

    # The sifts are native: as bytecode their locals and stack pass 11 words, and such a frame
    # is a heap block taken and freed at every call (136-160 B per put_back, pick and add).

    @micropython.native
    def _sift_down(self, entry, i):  # (a PolicyFields, as every heap entry)
        heap = self.heap
        n = self.n
        vr = entry.vruntime
        seq = entry.seq
        c = 2 * i + 1
        while c < n:
            child = heap[c]
            cv = child.vruntime
            if c + 1 < n:
                other = heap[c + 1]
                ov = other.vruntime
                if ov < cv or (ov == cv and other.seq < child.seq):
                    c += 1
                    child = other
                    cv = ov
            if vr < cv or (vr == cv and seq < child.seq):
                break
            heap[i] = child
            child.queue_pos = i
            i = c
            c = 2 * i + 1
        heap[i] = entry
        entry.queue_pos = i

    @micropython.native
    def _sift_up(self, entry, i):
        heap = self.heap
        vr = entry.vruntime
        seq = entry.seq
        while i > 0:
            p = (i - 1) >> 1
            q = heap[p]
            qv = q.vruntime
            if qv < vr or (qv == vr and q.seq < seq):
                break
            heap[i] = q
            q.queue_pos = i
            i = p
        heap[i] = entry
        entry.queue_pos = i

    def _fresh(self, slot):
        # First sight of a new task, at its first add() or an earlier set_priority() (a task
        # spawned by a running task reaches add() only when the inbox is drained).
        p = fields_of(slot)
        p.policy_task = slot.id
        slot.priority = 0
        slot.base_priority = 0
        slot.inherited = None
        p.weight = 1024
        p.vruntime = self.min_vruntime
        p.vrem = 0
        p.preempted = False
        return p

    # -- the policy interface ---------------------------------------------------------------

    def add(self, slot):
        """A task became runnable: a new one starts at the minimum virtual run time, a woken
        one at most ``wake_bonus_us`` behind it. Not ISR-safe."""
        p = slot.pol
        if p is None or p.policy_task != slot.id:
            self._fresh(slot)
        else:
            floor = self.min_vruntime - self.wake_bonus
            if p.vruntime < floor:
                p.vruntime = floor
        self.put_back(slot, False)

    def put_back(self, slot, preempted):
        """A polled task yielded: queue it by its virtual run time. Not ISR-safe."""
        p = slot.pol
        p.preempted = False
        heap = self.heap
        i = self.n
        if i == len(heap):
            heap.append(None)  # caller-owned slots beyond the pool: grows once per slot
        self.n = i + 1
        seq = self._seq
        seq = self._seq = seq + 1 if seq < _MAX_US else 0
        p.seq = seq
        self._sift_up(p, i)

    def pick(self):
        """Unlink and return the task with the least virtual run time, or None.
        Not ISR-safe."""
        n = self.n
        if n == 0:
            return None
        heap = self.heap
        top = heap[0]
        n -= 1
        self.n = n
        last = heap[n]
        heap[n] = None
        if n:
            self._sift_down(last, 0)
        top.queue_pos = -1
        vr = top.vruntime
        if vr > self.min_vruntime:
            self.min_vruntime = vr
            if vr > _RENORM_AT:
                self._renormalize()
        return top.slot

    def remove(self, slot):
        """Unlink a queued task; False if it was not queued here. Not ISR-safe."""
        p = slot.pol
        if p is None:
            return False
        i = p.queue_pos
        if i < 0:
            return False
        heap = self.heap
        n = self.n - 1
        self.n = n
        last = heap[n]
        heap[n] = None
        p.queue_pos = -1
        if last is not p:
            self._sift_up(last, i)
            if last.queue_pos == i:
                self._sift_down(last, i)
        return True

    def has_ready(self):
        """Whether a task is queued. Not ISR-safe."""
        return self.n > 0

    def charge(self, slot, elapsed_us):
        """Account one poll and advance the task's virtual run time by its weight. True if
        the task is now ``granularity_us`` ahead of the next one. Not ISR-safe."""
        if elapsed_us < 0:
            elapsed_us = 0
        self.stats.record(slot, elapsed_us)
        if elapsed_us > _MAX_CHARGE:
            elapsed_us = _MAX_CHARGE
        p = slot.pol  # (no more locals: past 11 words the frame is a heap block)
        num = elapsed_us * 1024 + p.vrem
        elapsed_us = p.weight
        q = num // elapsed_us
        p.vrem = num - q * elapsed_us
        vr = p.vruntime + q
        p.vruntime = vr
        return self.n > 0 and vr > self.heap[0].vruntime + self.granularity

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def should_yield(self, slot):
        """True once the running task is ``granularity_us`` (virtual) ahead of the next
        runnable task, counting the current poll so far. Not ISR-safe."""
        woken = self._sched._inbox_head is not None
        if self.n == 0 and not woken:
            return False
        used = port.ticks_diff(self._clock(), core.current_context().poll_start)
        if used > _MAX_CHARGE:
            used = _MAX_CHARGE
        p = slot.pol
        vr = p.vruntime + used * 1024 // p.weight
        nxt = self.heap[0].vruntime if self.n else self.min_vruntime
        if woken and self.min_vruntime < nxt:
            nxt = self.min_vruntime
        return vr > nxt + self.granularity

    def set_priority(self, slot, value):
        """Set the task's nice value (-20..19; raises ``BadPriority``). Not ISR-safe."""
        check_nice(value)
        p = slot.pol
        if p is None or p.policy_task != slot.id:
            p = self._fresh(slot)
        slot.base_priority = value
        loan = slot.inherited
        if loan is not None and loan < value:
            value = loan
        slot.priority = value
        p.weight = NICE_TO_WEIGHT[value + 20]
        return True

    set_nice = set_priority

    def check_priority(self, value):
        """Return ``value`` if it is a nice value (-20..19), else raise ``BadPriority``."""
        return check_nice(value)

    def inherit(self, holder, waiter):
        """Lend ``waiter``'s nice value to ``holder`` if it is lower (more CPU), capped at
        -20 (the waiter may run under another scheduler's policy). Not ISR-safe."""
        nice = waiter.priority
        if nice < NICE_MIN:
            nice = NICE_MIN
        if nice < holder.priority:
            holder.inherited = nice
            holder.priority = nice
            fields_of(holder).weight = NICE_TO_WEIGHT[nice + 20]

    def restore(self, holder):
        """End any loan: the holder runs at its own nice value again. Not ISR-safe."""
        holder.inherited = None
        nice = holder.base_priority
        holder.priority = nice
        fields_of(holder).weight = NICE_TO_WEIGHT[nice + 20]

    def loan(self, holder, waiter):
        """Set ``holder``'s loan to ``waiter``'s nice value (capped at -20), or end it
        (``waiter`` None, or no lower than the holder's own). Not ISR-safe."""
        nice = holder.base_priority
        holder.inherited = None
        if waiter is not None:
            lent = waiter.priority
            if lent < NICE_MIN:
                lent = NICE_MIN
            if lent < nice:
                holder.inherited = lent
                nice = lent
        holder.priority = nice
        fields_of(holder).weight = NICE_TO_WEIGHT[nice + 20]

    def more_urgent(self, a, b):
        """True if task ``a`` has a lower effective nice value than ``b``. ISR-safe."""
        return a.priority < b.priority

    def _renormalize(self):
        self.min_vruntime -= _RENORM_BY
        sched = self._sched
        for slot in sched.slots:
            _shift(slot)
        slot = sched._owned_head
        while slot is not None:
            _shift(slot)
            slot = slot.free_next


def _shift(slot):
    p = slot.pol
    if p is not None:
        vr = p.vruntime - _RENORM_BY
        p.vruntime = vr if vr > 0 else 0
