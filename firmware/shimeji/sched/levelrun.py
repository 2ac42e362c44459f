"""The interrupt level's callback: what runs at a check point (``InterruptScheduler._run``).

``InterruptScheduler`` (``interrupt.py``) queues this callback with ``micropython.schedule``
when one of its tasks becomes runnable; this module is the callback and what it needs to
decide whether it may run now. Its helpers are the scheduler's methods (the class body binds
them), so a lookup of ``self._poll_all`` is as short as if they were written there. So are
its ``spawn`` and ``spawn_allocated`` (at the end), which change the pool inside the section
that masks the callback, with nothing made or refused inside it (docs/sync.md, "Errors").

Design note: what the schedule queue keeps. MicroPython's queue is a ring of (function,
argument) slots that are GC roots and are not cleared when their callback runs: a slot keeps
its last callback until the ring comes round to it again. Had the queue been given a bound
method of the scheduler, a closed ``InterruptScheduler`` (its pool, tasks, policy and timer:
~3.5 KB on the STM32L475) would stay on the heap until other callbacks went through every
slot. So the queue gets ``run_level``, a plain function, and the scheduler's one-item list
``_self_ref``, which ``close()`` empties: a stale slot then reaches that list only.

Design note: where the callback runs. Any thread that runs bytecode may pick up a scheduled
callback (on the unix port, the thread that plays the interrupt handler too). The level runs
on the thread that made the scheduler: a callback picked up elsewhere queues itself again.

Design note: critical sections mask this level. A scheduled callback runs even while the code
it interrupts is inside a critical section (which masks only hardware interrupts), where a
wait list or an inbox may be half linked. So the callback first asks the sections whether the
interrupted code holds one (``held()``) and, if so, queues itself again: it runs at a later
check point, once the section has ended, as an interrupt waits for interrupts to be unmasked.

Tracing: a run that preempted a thread-level poll records ``IRQ_PREEMPT`` (the task, the µs
it held it up) in that scheduler's trace, through its side ring.
"""

import micropython

from .. import core
from ..errors import WrongLevel
from ..task.pool import hold_local, release_local, wrap_count
from ..task.slot import FREE, JoinHandle, TaskSlot, new_handle
from ..task.waitlist import JoinList
from ..time.clock import wrap_add, wrap_diff
from ..trace.kinds import IRQ_PREEMPT
from .scheduler import StaticScheduler

_base_tick = StaticScheduler.tick
_base_spawn = StaticScheduler.spawn
_base_spawn_allocated = StaticScheduler.spawn_allocated


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def run_level(ref):
    """The scheduled callback (``_run_cb``, queued with the scheduler's ``_self_ref``): polls
    every runnable task of the level until none is left, unless the interrupted code masks the
    level, in which case it queues itself again. Does nothing once the scheduler is closed
    (``ref`` empty). Never raises into MicroPython's scheduler."""
    self = ref[0]
    if self is None:
        return
    if self._masked():
        state = self._enter()  # held by us: a re-entry; from another thread: brief
        self._pending = False
        self._want = True
        self.deferred = wrap_count(self.deferred, 1)
        self._queue_run()
        self._exit(state)
        return
    state = self._enter()
    self._pending = False
    if self._active or self.closed:
        self._exit(state)
        return
    self._active = True
    self._want = False
    self._exit(state)
    ctx = core.context
    saved_slot = ctx.slot  # the interrupted thread-level task's context
    saved_sched = ctx.sched
    saved_start = ctx.poll_start
    # On an executor worker's thread (worker 0 on the main thread, which runs the callbacks)
    # the level's tasks would find the worker's context there (core.running_slot): the thread
    # is the interpreter's while the level polls (a value replaced: the dict never grows).
    key = worker = None
    if core._threads:
        key = core._ident[0]() | 2
        worker = core._threads.get(key)
        if worker is not None:
            core._threads[key] = ctx
    # The interrupted scheduler's spawns (its tick's own list) are not for this level's tasks.
    held = saved_sched is not None and hold_local(saved_sched)
    t0 = self._clock_us()
    try:
        self._poll_all()
    except BaseException as e:  # noqa: B036 - never raise into MicroPython's scheduler
        self.error = e  # service() raises it at the thread level
        self._want = True  # tasks left runnable run at the next wake, tick or service()
    finally:
        if worker is not None:
            core._threads[key] = worker
        ctx.slot = saved_slot
        ctx.sched = saved_sched
        ctx.poll_start = saved_start
        if held:
            release_local(saved_sched)
        self._active = False
    tr = saved_sched._trace if saved_slot is not None and saved_sched is not self else None
    if tr is not None:
        tr.record_isr(IRQ_PREEMPT, saved_slot.id, (self._clock_us() - t0) & 0x3FFFFFFF)
    self.runs = wrap_count(self.runs, 1)


def masked(self):
    """True if the interrupted code holds a critical section, or this is not the home thread:
    the level must not run here now."""
    if self._ident is not None and self._ident() != self._home:
        return True
    for held in self._guards:
        if held():
            return True
    return False


def poll_all(self):
    """Turn the level's timer and tick until no task is runnable and no timer is pending;
    then note when the wheel's next entry is due (``timer_interrupt`` compares with it)."""
    timer = self.timer
    budget = self.budget
    while True:
        if timer is not None and (timer.pending or self._due()):
            timer.turn()
        t = _base_tick(self, budget)
        # The policy is asked outside the section (its own context only touches it; it is
        # pluggable code, which may raise): inside, only the inbox and the timer's flag.
        if not t.has_remaining and not self.policy.has_ready():
            state = self._enter()
            if self._inbox_head is None and not (timer is not None and timer.pending):
                self._active = False
                self._want = False
                self._exit(state)
                break
            self._exit(state)
    if timer is not None:
        note_due(self, timer)


def due(self):
    """True if the timer's next armed entry is due now."""
    return self._due_armed and wrap_diff(self.timer.now(), self._due_tick) >= 0


def note_due(self, timer):
    """Remember the tick of the wheel's next armed entry (or that none is armed)."""
    wheel = timer.wheel
    k = wheel.next_in_ticks()
    self._due_armed = False
    if k >= 0:
        self._due_tick = wrap_add(wheel.now, k)
        self._due_armed = True


def thread_ident():
    """(get_ident, the ident of the calling thread), or (None, 0) without threads. Any thread
    running bytecode may pick up a scheduled callback (on the unix port the thread that plays
    the interrupt handler, too): the level runs on its home thread."""
    try:
        import _thread
    except ImportError:
        return None, 0
    return _thread.get_ident, _thread.get_ident()


def guards_of(sections):
    """The ``held()`` of each section in ``sections``, each section once. Raises
    ``WrongLevel`` for a section that cannot answer ``held()``."""
    guards = []
    seen = []
    for cs in sections:
        if cs not in seen:
            seen.append(cs)
            held = getattr(cs, "held", None)
            if held is None:
                raise WrongLevel("an InterruptScheduler needs critical sections that answer "
                                 "held() (IrqCriticalSection, LockCriticalSection, "
                                 "NoCriticalSection)")
            guards.append(held)
    return guards


# -- spawning at this level: InterruptScheduler.spawn and spawn_allocated -------------------


def level_spawn(self, coro, name=None):
    """Spawn ``coro`` at this level; returns its ``JoinHandle``. From set-up code (outside
    any task) or this level's tasks; raises ``WrongLevel`` from a thread-level task. Not
    ISR-safe. Its refusals are made outside the section: checked before it, or (no free
    slot: ``PoolFull``) decided inside and raised after it. In grow mode the new slot is made
    before the section too (a task of the level may take it first: then made again)."""
    self._check_spawn_level("spawn")
    self._check_spawn(coro)  # (closed, not a coroutine: before the section)
    while True:
        slot = self._free_head
        if slot is None and self.grow:
            _grow_before(self)  # made, and pushed under a section of its own
            slot = self._free_head
        spare = None  # the free slot's handle was handed out (or none is free until the
        # section reclaims one), or a named spawn (a slot's first handle has no name field):
        if slot is None or slot.handle_out or name is not None:  # a new handle, made here
            spare = new_handle(JoinHandle)
            spare._ref = None  # (its fields too: a new instance's first stores allocate)
            spare.id = 0
            spare.name = None
        state = self._enter()  # the level's callback waits while the pool and queue change
        try:
            empty = self._free_head is None and (
                self._returned is None or not self._reclaim())
            slot = self._free_head
            if slot is not None and (slot.handle_out or name is not None):  # the spare
                empty = spare is None  # (none made: another free slot came; made next round)
                if not empty:
                    slot.handle = spare
                    slot.handle_out = False
            if not empty:
                handle = _base_spawn(self, coro, name)
                self._want = True
                if not self._pending and not self._active:
                    self._queue_run()
        finally:
            self._exit(state)
        if not empty:
            return handle
        if self._free_head is None and not self.grow:
            self._refuse()  # PoolFull


def _grow_before(sched):
    from ..task.spare import grow  # (grow mode only: loaded at its first use)

    grow(sched, sched._enter, sched._exit)  # (made, then pushed under the section)


def level_spawn_allocated(self, slot, coro, name=None):
    """``spawn`` in a caller-owned ``TaskSlot``. Same rules as ``spawn``."""
    self._check_spawn_level("spawn_allocated")
    self._check_spawn(coro)
    busy = not _free_for(self, slot)
    if not busy:
        joiners = JoinList() if slot.owner is None else None  # (its first use: made here)
        state = self._enter()
        try:
            busy = slot.w[0] != FREE  # (taken meanwhile: refused after the section)
            if not busy:
                if slot.owner is None:  # TaskPool._adopt's registration, with joiners
                    slot.owner = self._owned_by
                    slot.joiners = joiners
                    slot.free_next = self._owned_head
                    self._owned_head = slot
                handle = _base_spawn_allocated(self, slot, coro, name)
                self._want = True
                if not self._pending and not self._active:
                    self._queue_run()
        finally:
            self._exit(state)
    if busy:
        self._adopt(slot)  # raises SlotBusy, saying what is wrong
    return handle


def _free_for(sched, slot):
    # What TaskPool._adopt checks, without registering the slot: True if it may take a task.
    if not isinstance(slot, TaskSlot) or slot.w[0] != FREE:
        return False
    return slot.owner is None or slot.owner is sched._owned_by
