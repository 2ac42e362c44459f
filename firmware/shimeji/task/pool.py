"""``TaskPool``: the task slots a scheduler owns, and the bookkeeping around them.

Pool slots are made at construction and kept on a free list, a stack: a freed slot goes on
top and is the next one spawned into (two stores, no tail to keep; the slot reused is the one
the machine's cache saw last). The list starts in the order of ``slots``. Caller-owned slots
(``spawn_allocated``) are linked into an intrusive list the first time they are used, so that
``close()`` and the REPL listing see them too. Task ids are 30-bit, increasing, and skip any
id a live task still has after they wrap. An executor gives each worker's pool a range of ids
of its own (``set_id_range``), so a task stolen by another worker keeps an id no task of that
worker has (its trace track too).

The free list is linked through ``run_next`` (a free slot is on no run queue). While a poll's
spawns wait on the FIFO tick's own list (spawn's in-line case, sched/lifecycle.py), that
list's last task links to the free list's top, so the next in-line spawn takes the slot its
last one already links to and appends it with no store. What else changes the top while the
list waits keeps that: ``_start`` links the slot it appends to the top (a grown slot, a
caller's, one taken after ``_reclaim`` pushed the slots given back); a completion pushes its
slot after the poll, and the tick splices the list in (its last's link set again) before it
polls anything that could spawn; a pop that is not appended (``_start`` into the inbox) comes
only while the inbox holds a task, which keeps spawns off the in-line case until the splice.
"""

from micropython import const

from .. import core, port
from .._values import ValueFinish
from ..core import wrap_count  # noqa: F401 (re-exported)
from ..errors import (
    BadArgument,
    InvalidCapacity,
    NotACoroutine,
    SchedulerClosed,
    SlotBusy,
    WrongLevel,
)
from .slot import FREE, TaskSlot
from .waitlist import JoinList
from .words import new_flag, state_of

_ID_MASK = const(0x3FFFFFFF)  # ids and lifetime counters stay small ints on 32-bit boards
_MAX_CAPACITY = const(65536)  # more slots than any board's heap holds (a host would only stall)


_STATE_NAMES = ("free", "queued", "running", "waiting", "waiting")  # 4: core.ASLEEP


class OwnedBy:
    """The ``owner`` of the caller-owned slots of one pool (``spawn_allocated``)."""

    def __init__(self, pool):
        self.pool = pool

    def _complete(self, slot, status, value):  # (an executor's close: injector.py)
        self.pool._complete(slot, status, value)


class TaskPool:
    """Slot storage for a scheduler. Not used on its own."""

    _id_range = (1, _ID_MASK)  # the first and last id this pool hands out (set_id_range)
    _range_wrapped = False  # True (on the instance) once the ids came round to the range's first

    def __init__(self, capacity, grow=False):
        if type(capacity) is not int or capacity < 1 or capacity > _MAX_CAPACITY:
            raise InvalidCapacity("capacity must be a positive int (the number of task slots, "
                                  "at most %d), got %r" % (_MAX_CAPACITY, capacity))
        self.capacity = capacity
        self.grow = grow  # make a new slot when the pool is empty (the asyncio facade)
        self.grown = 0  # slots made beyond ``capacity`` by grow mode
        self.value_finish = ValueFinish()  # ends its tasks' awaits with a value
        self.closed = False
        self.spawned_total = 0  # lifetime counters, wrapping at 2**30 (spawned and completed
        # count up at the end of each tick)
        self.completed_total = 0
        self.failed_total = 0
        self._next_id = 1
        # True once the ids came round (2**30-1 handed out), or from set_id_range on: spawn's
        # fast case (ids below 2**30-1) is then off and every id comes from _new_id.
        self.ids_wrapped = False
        self._owned_head = None
        # A caller-owned slot's ``owner`` (a pool slot's is the pool itself): never the
        # scheduler that completes it, so a completion pushes onto the free list when
        # ``slot.owner is sched`` without reading ``pooled`` first (StaticScheduler._complete;
        # the in-line completions read it only for a dirty slot: TaskSlot.dirty).
        self._owned_by = OwnedBy(self)
        self._returned = None  # pool slots freed by other schedulers (see _give_back)
        # 1 once the inbox or the tick's own spawn list may hold tasks: a word the FIFO tick
        # reads per poll (sched/wordtick.py: a machine load, not an attribute's look-up)
        self._news = new_flag()
        self.slots = []
        self._free_head = None
        for _ in range(capacity):
            slot = TaskSlot()
            slot.pooled = True
            slot.owner = self
            slot.joiners = JoinList()
            self.slots.append(slot)
        for i in range(capacity - 1, -1, -1):  # slots[0] on top: spawned into first
            self._free_push(self.slots[i])

    def _grow_slot(self):
        """A new pool slot, made because every slot holds a live task (grow mode only). The
        slot stays in the pool afterwards; ``grown`` counts them, so ``capacity + grown`` is
        what a static build of the same program needs."""
        slot = TaskSlot()
        slot.pooled = True
        slot.owner = self
        slot.joiners = JoinList()
        self.slots.append(slot)
        self.grown += 1
        return slot

    def _take_free(self):
        slot = self._free_head
        if slot is not None:
            self._free_head = slot.run_next  # (the free list is linked through run_next)
            slot.run_next = None
        return slot

    def _free_push(self, slot):
        slot.sched = self  # a free pool slot keeps its scheduler (TaskSlot.sched: spawn's
        slot.run_next = self._free_head  # fast path does not write it)
        self._free_head = slot

    def _give_back(self, slot):
        """A pool slot of ours, freed by the scheduler it had moved to (a multi-core executor's
        stealing): queue it for ``_reclaim``. Safe from another thread (critical section)."""
        state = self._enter()
        slot.free_next = self._returned
        self._returned = slot
        self._exit(state)

    def _reclaim(self):
        """Put the slots given back by other schedulers on the free list; True if any."""
        state = self._enter()
        slot = self._returned
        self._returned = None
        self._exit(state)
        if slot is None:
            return False
        while slot is not None:
            nxt = slot.free_next
            self._free_push(slot)
            slot = nxt
        return True

    def _adopt(self, slot):
        """Check a caller-owned slot and register it with this pool on first use."""
        if not isinstance(slot, TaskSlot):
            raise SlotBusy("spawn_allocated needs a shimeji.TaskSlot(), got %r" % (slot,))
        if slot.w[0] != FREE:
            raise SlotBusy("this TaskSlot holds a live task: wait for it to finish, or make "
                           "another TaskSlot()")
        owner = slot.owner
        if owner is not self._owned_by:
            if owner is self:  # a free pool slot is on the free list: spawn() would take it too
                raise SlotBusy("this TaskSlot belongs to this scheduler's pool: spawn() uses "
                               "pool slots; spawn_allocated needs a TaskSlot() of your own")
            if owner is not None:
                raise SlotBusy("this TaskSlot belongs to another scheduler (or its pool): "
                               "make a TaskSlot() for each scheduler")
            slot.owner = self._owned_by
            slot.joiners = JoinList()
            slot.free_next = self._owned_head  # the owned list reuses the free-list link
            self._owned_head = slot

    def _check_spawn(self, coro):
        self._check_coro(coro)
        # The level of the task spawning: while executor workers are registered, the calling
        # thread's (the interpreter's context may hold an interrupt level's scheduler, polling
        # on the main thread while a worker's task spawns: session 20, docs/executor.md); a
        # thread that is not the level's home thread runs none of its tasks (session 21).
        running = (core.current_context() if core._threads else core.context).sched
        if running is not None and running.level != self.level and not core.off_home(running):
            raise WrongLevel("spawn on a scheduler of another level from a task (thread vs "
                             "interrupt level): hand the work over with a Channel or Event")

    def _check_coro(self, coro):
        """``_check_spawn`` without the level check: the scheduler open, ``coro`` a
        coroutine. Raises ``SchedulerClosed`` or ``NotACoroutine``."""
        if self.closed:
            raise SchedulerClosed("this scheduler was closed: make a new StaticScheduler")
        if not port.is_coroutine(coro):
            if callable(coro):
                name = getattr(coro, "__name__", "f")
                raise NotACoroutine("spawn() takes a coroutine object: call the async "
                                    "function, spawn(%s()) not spawn(%s)" % (name, name))
            raise NotACoroutine("spawn() takes a coroutine object (what calling an async def "
                                "function returns), got %r" % (coro,))

    def set_id_range(self, first, last):
        """Hand out task ids ``first``..``last`` (within 1..2**30-1), from ``first``. Set-up
        only, before the first spawn (an executor gives each worker a range). Not ISR-safe."""
        if not 1 <= first <= last <= _ID_MASK:
            raise BadArgument("set_id_range(%r, %r): give ints with 1 <= first <= last <= "
                              "2**30-1" % (first, last))
        self._id_range = (first, last)
        self._next_id = first
        self.ids_wrapped = True  # every id through _new_id, which keeps to the range
        self._local_ok = False  # (spawn's in-line case then stops for this tick)
        self._local_next = False  # (and for every later tick: fastpath.tick_fifo)

    def _new_id(self):
        """The next task id of the pool's range (1..2**30-1 unless ``set_id_range``),
        increasing; once the ids have wrapped, never one a live task still has.
        Allocation-free (the check after the wrap is O(slots))."""
        while True:
            task_id = self._next_id
            if task_id < self._id_range[1]:
                self._next_id = task_id + 1
            else:
                self._next_id = self._id_range[0]
                self.ids_wrapped = True
                self._range_wrapped = True
                self._local_ok = False  # spawn's in-line case assumes ids that never wrapped
                self._local_next = False  # (and for every later tick: fastpath.tick_fifo)
            if not self._range_wrapped or not self._id_live(task_id):
                return task_id

    def _id_live(self, task_id):
        for slot in self.slots:
            if slot.coro is not None and slot.id == task_id:
                return True
        slot = self._owned_head
        while slot is not None:
            if slot.coro is not None and slot.id == task_id:
                return True
            slot = slot.free_next
        return False

    def live_slots(self):
        """Slots holding live tasks, pool and caller-owned (a new list: REPL and tests). Not
        ISR-safe."""
        live = [s for s in self.slots if s.coro is not None]
        slot = self._owned_head
        while slot is not None:
            if slot.coro is not None:  # (live: its state may read FREE, words.py)
                live.append(slot)
            slot = slot.free_next
        return live

    def live_count(self):
        """How many tasks are live. Allocation-free. Not ISR-safe (it reads slot states and
        lists that spawns and completions change)."""
        n = 0
        for slot in self.slots:
            if slot.coro is not None:  # (live: its state may read FREE, words.py)
                n += 1
        slot = self._owned_head
        while slot is not None:
            if slot.coro is not None:  # (live: its state may read FREE, words.py)
                n += 1
            slot = slot.free_next
        return n

    def free_count(self):
        """How many pool slots are free. Allocation-free. Not ISR-safe (it walks the free
        list, which spawns and completions change)."""
        n = 0
        slot = self._free_head
        while slot is not None:
            n += 1
            slot = slot.run_next
        return n

    def tasks(self):
        """``(id, name, state)`` of every live task, for the REPL (a new list). Not ISR-safe;
        behind the REPL use ``bg.tasks()``."""
        return [(s.id, s.name, _STATE_NAMES[state_of(s)]) for s in self.live_slots()]


def hold_local(outer):
    """A tick that starts while ``outer`` (a scheduler) runs a task (the task drives the tick,
    or an interrupt level interrupted it) keeps spawns onto ``outer`` off its tick's own list
    until the tick returns (``release_local``), so spawn's in-line case reads no context.
    Returns whether the list was in use. Allocation-free."""
    held = outer._local_ok
    outer._local_ok = False
    return held


def release_local(outer):
    """Undo ``hold_local`` (when it returned True), unless the ids wrapped meanwhile or a task
    was woken into ``outer``'s inbox (spawns follow it there until the tick's next drain)."""
    outer._local_ok = outer._local_next and outer._inbox_head is None
