"""``InterruptScheduler``: tasks that preempt every thread-level task (docs/preemption.md).

A cooperative tick cannot answer an urgent event while a task computes without yielding.
MicroPython has one preemption point: a callback queued with ``micropython.schedule`` runs at
the VM's next check point, even in the middle of a long poll. Like Embassy's interrupt
executor, an ``InterruptScheduler`` runs its tasks from such a callback: a wake of one of its
tasks (from an interrupt handler, another thread or a thread-level task) queues the callback,
which polls every runnable task of this scheduler, in its policy's order, until none is left,
and returns; the interrupted code then continues exactly where it stopped.

Design note: the pending callback. At most one callback of a scheduler is queued at a time
(``_pending``); a wake that finds one queued, or finds the callback running (``_active``: it
drains the inbox before it returns), only links the task. A full queue (RuntimeError) is
remembered (``_want``) and retried by the next wake, timer interrupt or ``service()``: the wake
is never lost and nothing is raised into the interrupt handler. The queued callback is a plain
function and a one-item list made once (``levelrun.py`` says why not a bound method), so waking
allocates nothing, and a closed scheduler is not kept alive by MicroPython's queue.

The callback itself, and what decides whether it may run now (the home thread, the
critical sections that mask the level), is ``levelrun.py``.

Tracing: a ``Trace`` attached here records like any scheduler's (the callback writes its ring).
A run that preempted a thread-level poll records ``IRQ_PREEMPT`` (the task, the µs it held it
up) in that scheduler's trace, through its side ring.
"""

import micropython

from .. import core, port
from ..errors import BadArgument, Cancelled, SchedulerBusy, TimerConfigError, WrongLevel
from ..sync.critical import default_critical_section
from ..task.slot import QUEUED, RUNNING, WAITING, TaskSlot
from ..time.clock import wrap_diff
from ..time.timer import Timer
from .levelrun import (
    due,
    guards_of,
    level_spawn,
    level_spawn_allocated,
    masked,
    note_due,
    poll_all,
    run_level,
    thread_ident,
)
from .scheduler import StaticScheduler
from .waking import refuse_wake as _refuse_wake

_base_cancel_slot = StaticScheduler.cancel_slot


class InterruptScheduler(StaticScheduler):
    """A ``StaticScheduler`` whose tick runs from a ``micropython.schedule`` callback.

    Arguments as ``StaticScheduler``. ``sections``: more critical sections that mask this
    level (its own and the runtime's shared one always do): pass the thread-level scheduler's
    and the primitives' sections when they are not the shared one. ``timer``: a ``Timer``
    for this level's sleeps; its ``interrupt`` becomes this scheduler's ``timer_interrupt``,
    so a hardware timer that calls ``timer.interrupt`` runs the level when a sleep is due.
    ``budget``: polls per tick round.
    Spawn its tasks from set-up code (outside any task) or from its own tasks. Do not call
    ``tick()``: waking a task runs the level.
    """

    level = 1

    # The callback's helpers (levelrun.py), bound as methods of this class.
    _masked = masked
    _poll_all = poll_all
    _due = due
    _note_due = note_due

    def __init__(self, capacity=8, policy=None, critical_section=None, clock_us=None,
                 timer=None, budget=64, sections=()):
        if type(budget) is not int or budget < 1:  # (0 or less: a run polls nothing, for ever)
            raise BadArgument("InterruptScheduler(budget=%r): give an int of at least 1 (polls "
                              "per round)" % (budget,))
        if not isinstance(sections, (tuple, list)):
            raise BadArgument("InterruptScheduler(sections=%r): give a tuple of critical "
                              "sections, () for none" % (sections,))
        StaticScheduler.__init__(self, capacity, policy, critical_section, clock_us, None)
        self.budget = budget
        self._run_cb = run_level  # queued with _self_ref: queueing allocates nothing
        self._self_ref = [self]  # all the schedule queue reaches; close() empties it
        self._schedule = micropython.schedule
        self._pending = False  # a callback is queued and has not started
        self._active = False  # the callback is polling (it drains the inbox before it ends)
        self._want = False  # work arrived that no queued or running callback will see
        self._due_armed = False  # the timer has an armed entry due at tick ``_due_tick``
        self._due_tick = 0
        self.runs = 0  # callbacks that polled (wrap at 2**30, like every counter)
        self.deferred = 0  # callbacks that found a critical section held and queued again
        self.queue_full = 0  # schedule() calls refused by a full queue (retried later)
        self.error = None  # a BaseException (Ctrl-C) raised by a task: service() re-raises
        # The thread-level scheduler whose loop runs on this level's home thread (set by
        # board.interrupt_scheduler(n, sched)): a queued callback ends that loop's idle in the
        # I/O poller, where no check point would run the level until the poll timed out.
        self.home_sched = None
        guards = [self.critical_section, default_critical_section()]
        for cs in sections:
            guards.append(cs)
        self._guards = guards_of(guards)  # held() of every section that masks this level
        self._ident, self._home = thread_ident()
        port.install_check_points(core.context, self)
        if timer is not None:
            self.attach_timer(timer)

    def attach_timer(self, timer):
        """Use ``timer`` for this level's sleeps; ``timer.interrupt`` then runs the level when
        a sleep is due. Set-up only (not ISR-safe)."""
        if not isinstance(timer, Timer):
            raise TimerConfigError("attach_timer needs a shimeji Timer, got %r" % (timer,))
        self.timer = timer
        timer.interrupt = self.timer_interrupt
        if self._trace is not None:
            timer.trace = self._trace

    # -- waking: ISR-safe, allocation-free ------------------------------------------------------

    @micropython.native
    def wake(self, slot):
        """Make the task in ``slot`` runnable and queue this level's callback unless one is
        queued or running. Idempotent. ISR-safe: allocation-free, never raises (traced: see
        ``_wake_traced``; what is not a TaskSlot: ``BadArgument``, before the section)."""
        if not slot.__class__ is self._plain_slot:  # noqa: E714 (waking.py's wake)
            return self._wake_traced(slot)  # traced, or no plain TaskSlot
        w = slot.w
        state = self._enter()
        st = w[0]
        if st == WAITING and slot.sched is self:
            w[0] = QUEUED
            slot.inbox_next = None
            tail = self._inbox_tail
            if tail is None:
                self._inbox_head = slot
            else:
                tail.inbox_next = slot
            self._inbox_tail = slot
            self._news[0] = 1  # (tick_fifo reads this one word per poll)
            if self._polling:
                self._local_ok = False  # spawns follow the woken task (lifecycle.py's spawn)
                self._woken_int += 1
            else:
                self._woken_ext += 1
            self._want = True
        elif st == RUNNING:
            slot.w[2] = 1  # rewoken (task/words.py)
        if self._want and not self._pending and not self._active:
            self._queue_run()
        self._exit(state)
        if self.home_sched is not None and self._pending:
            self._end_home_idle()

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)

    def _wake_traced(self, slot):
        # ``wake`` with a trace: its record may raise (the trace's clock): the task is queued
        # first and the section ends in a finally (docs/sync.md, "Exceptions inside a section").
        # A subclass's slot is woken here too; what is not a slot is refused (waking.py's).
        if not isinstance(slot, TaskSlot):
            _refuse_wake(slot)
        state = self._enter()
        try:
            st = slot.w[0]
            if st == WAITING and slot.sched is self:
                slot.w[0] = QUEUED
                slot.inbox_next = None
                tail = self._inbox_tail
                if tail is None:
                    self._inbox_head = slot
                else:
                    tail.inbox_next = slot
                self._inbox_tail = slot
                self._news[0] = 1  # (tick_fifo reads this one word per poll)
                if self._polling:
                    self._local_ok = False  # (as in wake)
                    self._woken_int += 1
                else:
                    self._woken_ext += 1
                self._want = True
                if not self._pending and not self._active:
                    self._queue_run()
                if self._trace is not None:  # (a subclass's slot, untraced)
                    self._trace.wake_locked(self, slot)
            elif st == RUNNING:
                slot.w[2] = 1  # rewoken (task/words.py)
            if self._want and not self._pending and not self._active:
                self._queue_run()
        finally:
            self._exit(state)
        if self.home_sched is not None and self._pending:
            self._end_home_idle()

    @micropython.native
    def _queue_run(self):
        # Inside the section; _want is True and no callback is queued or running.
        try:
            self._schedule(self._run_cb, self._self_ref)
            self._pending = True
            self._want = False
        except RuntimeError:  # the queue is full: the next wake or timer interrupt retries
            n = self.queue_full
            self.queue_full = n + 1 if n < 0x3FFFFFFF else 0

    def _end_home_idle(self):
        # A callback is queued: end the home thread's idle in the I/O poller (the unix board
        # idles in poll(), inside which MicroPython runs no scheduled callback), or the next
        # (its doze does not look at the callback queue). Outside the section;
        # allocation-free; a no-op without a wake socket.
        poller = self.home_sched.poller
        if poller is not None:
            poller.ring()

    def timer_interrupt(self, arg=None):
        """The hardware timer's callback (``timer.interrupt`` is this method): records the
        tick, and queues the level's callback when a sleep is due or a queueing failed.
        ISR-safe: allocation-free, never raises."""
        timer = self.timer
        Timer.interrupt(timer)
        if self._due_armed and wrap_diff(timer.now(), self._due_tick) >= 0:
            self._want = True
        if self._want and not self._pending and not self._active:
            state = self._enter()
            if self._want and not self._pending and not self._active:
                self._queue_run()
            self._exit(state)
            if self.home_sched is not None and self._pending:
                self._end_home_idle()

    def service(self):
        """Retry a queueing that a full queue refused, and run what is queued on CPython (a
        check point); re-raises a ``KeyboardInterrupt`` a task of this level raised. Call it
        from the thread-level run loop now and then. Not ISR-safe."""
        if self._want:
            state = self._enter()
            if self._want and not self._pending and not self._active:
                self._queue_run()
            self._exit(state)
        port.check_point()
        err = self.error
        if err is not None:
            self.error = None
            raise err

    # -- the level rules ----------------------------------------------------------------------

    def _check_spawn_level(self, what):
        running = core.context.sched
        if running is not None and running is not self:
            if running.level != self.level:
                raise WrongLevel(
                    "%s on an InterruptScheduler from a thread-level task: spawn its tasks "
                    "from set-up code or from its own tasks, and signal them with a "
                    "primitive (Event, Channel...)" % what)

    def tick(self, n=None):
        """Not for callers: waking a task runs this level. Raises ``WrongLevel``."""
        raise WrongLevel("an InterruptScheduler ticks itself from its schedule() callback: "
                         "wake its tasks (or spawn them) instead of calling tick()")

    spawn = level_spawn  # (levelrun.py: their refusals are made outside the section)
    spawn_allocated = level_spawn_allocated

    def cancel_slot(self, slot):
        """Cancel a task of this level (``JoinHandle.cancel``), from any level. Not
        ISR-safe."""
        exc = Cancelled("the task was cancelled")  # (before the section: made, not raised)
        state = self._enter()
        try:
            return _base_cancel_slot(self, slot, exc)
        finally:
            self._exit(state)

    def close(self):
        """Refuse new spawns and cancel every task. From set-up code only. Not ISR-safe."""
        if core.context.sched is not None:
            raise SchedulerBusy("close() an InterruptScheduler from set-up code, not a task")
        self.closed = True  # first: a callback that runs now returns at once
        StaticScheduler.close(self)
        self._self_ref[0] = None  # a queue slot that keeps the callback keeps nothing else
        port.release_check_points(self)  # (CPython's stand-in: runs callbacks at once again)

    def run_until_complete(self, coro, idle=None):
        """Spawn ``coro`` at this level and wait (servicing the level) until it finishes;
        returns its result. For scripts and the REPL. Not ISR-safe. From a task (which would
        wait for ever: its level cannot run under it): ``SchedulerBusy``."""
        if core.context.sched is not None:
            raise SchedulerBusy("run_until_complete() from a task would wait for ever: spawn "
                                "the coroutine and await its handle instead")
        handle = self.spawn(coro)
        slot = handle._ref  # (not a slot if the level ran it to its end already: a check point)
        while not handle.is_complete():
            self.service()
            if not handle.is_complete():
                if idle is None:
                    _sleep_a_little()
                else:
                    idle()
        try:
            return handle.result()
        finally:
            if isinstance(slot, TaskSlot) and slot.handle is handle and slot.w[0] == 0:  # FREE
                slot.handle_out = False


def _sleep_a_little():
    port.sleep_idle(200)  # (with a GIL, a wait that releases it: see port.py)

