"""``StaticScheduler``: a fixed pool of task slots and a tick-driven run loop.

The scheduler does not own the loop. ``tick()`` polls up to ``n`` woken tasks and returns a
``Tick``; the caller composes timer turn, tick and idle (see ``run_until_complete`` and, for
boards, ``shimeji.runloop``).

Its parts: the slot pool and a task's life (spawn, cancel, close) in ``lifecycle.py``, its
policy in ``policyset.py``, ``run_until_complete`` in ``untilcomplete.py``; waking and parking
(``wake()``, the ISR-safe inbox, its design note) in ``waking.py``; the ticks in
``fastpath.py`` and ``general.py``. Here: construction, ``tick()`` and its accounting, and a
task's completion.
"""

import micropython
from micropython import const

from .. import core, port
from ..errors import BadArgument, ForeignAwaitable, SchedulerBusy, int_arg, kept_error
from ..policy.fifo import FifoPolicy
from ..sync.critical import default_critical_section, interrupted_cancelled
from ..task.slot import (
    CANCELLED,
    QUEUED,
    TaskBuilder,
    TaskSlot,
    completed_ref,
)
from ..task.waitlist import wake_joiners
from . import loopthread, owntick, wordtick  # (modules: a name more measured +190 a switch)
from .foreign import ADVICE as _ADVICE
from .general import Tick, tick_general
from .lifecycle import TaskLifecycle

_TICK_SIZE = const(256)
_OWN_TICK = wordtick._GILLESS  # every scheduler binds its own viper tick (owntick.tick_own)
DEFAULT_TICK_SIZE = _TICK_SIZE  # tasks polled by one tick() at most, by default
_TRACE_DONE = const(6)  # an outcome (OK, FAILED, CANCELLED) + 6 is its trace event kind
_FAILED = const(3)  # task.slot.FAILED
_WAITING = const(3)  # core.WAITING and core.ASLEEP (constants: no module globals more)
_ASLEEP = const(4)


class StaticScheduler(TaskLifecycle):
    """A single-core scheduler whose task slots are all made at construction.

    ``capacity``: number of pool slots. ``policy``: a ``Policy`` (default ``FifoPolicy``).
    ``critical_section``: guards wakes from interrupt handlers and other threads (default: the
    runtime's, see ``critical.py``). ``clock_us``: a µs tick source, used only by policies that
    charge run time (default ``time.ticks_us``). ``timer``: the timer that ``sleep_ms`` and
    friends of tasks on this scheduler use (also settable later as ``sched.timer``).
    ``grow``: make a slot instead of raising ``PoolFull`` (off by default; on in the asyncio
    facade); ``grown`` counts them: ``capacity + grown`` is what a static build needs.
    """

    DEFAULT_TICK_SIZE = _TICK_SIZE
    level = 0  # thread level; an InterruptScheduler (interrupt.py) is level 1
    parallel = False  # True for an executor's worker, which polls in parallel with others
    _local_next = False  # (on the instance from __init__: see there)

    def __init__(self, capacity=16, policy=None, critical_section=None, clock_us=None, timer=None,
                 grow=False):
        TaskLifecycle.__init__(self, capacity, grow)
        self.timer = timer
        if timer is not None and hasattr(timer, "wheel"):
            timer.wheel.reserve(2 * capacity)  # a sleep and a timeout per slot: no growth
        self.poller = None  # the IOPoller of the tasks' I/O waits (io/poller.py), made lazily
        self.idle_notify = None  # called after a wake while no tick runs: ends the loop's idle
        self._tick = Tick()
        self._builder = TaskBuilder(self)
        self._spawned = 0
        self._woken_ext = 0
        self._woken_int = 0
        self._woken_timer = 0  # timer wakes linked straight into the FIFO queue (loop thread)
        self._polling = False
        self._ctx = core.context  # where tick() says what runs (a worker has its own)
        self._shielding = True  # tick() raises the asyncio shield (a worker's executor does)
        cs = critical_section if critical_section is not None else default_critical_section()
        if not hasattr(cs, "enter"):
            raise BadArgument("critical_section=%r: give a critical section (with enter() and "
                              "exit()) or leave it out" % (cs,))
        from ..sync.critical import exit_of  # (here: no name more in this module's globals)

        self.critical_section = cs
        self._enter = cs.enter
        self._exit = exit_of(cs)  # (its unchecked exit: shimeji pairs its own)
        self._inbox_head = None
        self._inbox_tail = None
        self._local_ok = False  # tick_fifo polls on this thread: spawns use the local list
        # (``_news``, made by TaskPool.__init__: 1 once the inbox or _local_head may hold tasks)
        self._local_head = None  # spawns by this scheduler's tasks during a tick_fifo poll
        self._local_tail = None
        self._clock_us = clock_us if clock_us is not None else port.ticks_us
        self._trace = None  # a trace.Trace (see set_trace): ticks then record every poll
        self._plain_slot = TaskSlot  # the slots wake() takes in line: none while traced
        self._traced = None
        self.policy = None
        self._fifo = None
        self.set_policy(policy if policy is not None else FifoPolicy())
        # Read by every spawn: on the instance, a hit. A name that is not in an instance's
        # attribute table is looked for there first, and MicroPython grows that table only
        # when it is full, so a miss probes most of it before the class is asked.
        self.level = self.level
        self.parallel = self.parallel
        # What tick_fifo puts in _local_ok: False once parallel, ids_wrapped or closed (where
        # those are set), one read per tick instead of three (~0.6-0.9k instructions).
        self._local_next = not self.parallel and not self.ids_wrapped and not self.closed
        if _OWN_TICK and not self.parallel:  # rp2: its own viper tick (a worker makes its own)
            self._tick_own = wordtick.bind(self)  # (owntick.tick_own calls it: no GIL there)
        # The methods every spawn and completion calls, bound once (a subclass's own, if it
        # overrides them): a hit in the instance's table instead of a miss, then the class.
        self._start = self._start
        self._complete = self._complete
        self._take_inbox = self._take_inbox
        self.spawn = self.spawn  # called by tasks (sched.spawn(coro)): a hit, not a miss
        cls = type(self)
        if (cls.spawn is TaskLifecycle.spawn and cls._start is TaskLifecycle._start
                and cls.spawn_detached is TaskLifecycle.spawn_detached):
            # Its common cases in one native call (detached.py); a class with a spawn of its
            # own (an interrupt level, a worker) keeps spawn_detached = spawn + give back.
            self.spawn_detached = self._spawn_detached_inline
        else:
            self.spawn_detached = self.spawn_detached
        if cs.irq_direct:  # a board's IrqCriticalSection: its hot sections without method calls
            self._irq_direct(cs)

    def _irq_direct(self, cs):
        # waking.py's _IRQ forms of what this class does not override (a subclass's own wake,
        # _take_inbox or _park keeps taking the section through enter/exit).
        self._irq = cs
        self._irq_off = cs._disable
        self._irq_on = cs._enable
        cls = type(self)
        if cls.wake is StaticScheduler.wake:
            self.wake = self._wake_irq
        if cls._take_inbox is StaticScheduler._take_inbox:
            self._take_inbox = self._take_inbox_irq
        if cls._park is StaticScheduler._park:
            self._park = self._park_irq

    from .detached import spawn_detached_inline as _spawn_detached_inline

    # -- waking and parking: waking.py. Imported into this class's own table, so that a lookup
    # of ``sched.wake`` finds it here as before (no base class to search, no module global).
    from .waking import (
        _drain_inbox,
        _inbox_push,
        _park,
        _park_irq,
        _park_sleep,
        _take_inbox,
        _take_inbox_irq,
        _wake_irq,
        _wake_traced,
        wake,
    )

    # -- the tick ---------------------------------------------------------------------------------

    @micropython.native
    def tick(self, n=_TICK_SIZE, _ctx=core.context, _type=type, _int=int,
             _fifo=wordtick.tick_fifo, _general=tick_general, _threads=core._threads,
             _loops=loopthread.ticking, _ident=loopthread._get_ident,
             _refuse=loopthread.refuse_tick):
        """Poll at most ``n`` runnable tasks, in the policy's order; returns the ``Tick``.

        Only woken tasks are polled. Allocates nothing in steady state. Not ISR-safe: call it
        from the run loop (or from a task of another scheduler). Raises ``SchedulerBusy`` if
        called from one of this scheduler's own tasks, or on a thread other than the one
        whose loop (a ``RunLoop``, ``run_until_complete``, a ``ThreadBackground``...) polls
        plain schedulers now."""
        # (native, the module's names as default-argument locals: ~1.5k instructions less
        # per tick than as bytecode with global lookups)
        if _loops:  # a loop polls plain schedulers on a thread: is it this one? (loopthread)
            if _ident[0]() not in _loops:
                _refuse(self)
        if self._polling:
            raise self._busy()
        if _threads:  # an executor's workers poll (on other threads, or on this one)
            if self.parallel is False:
                self.check_thread("tick")
        running = _ctx.sched
        if running is not None and running.level > self.level:
            self._check_level("tick")
        if _type(n) is not _int:
            int_arg(n, "tick(n)", "an int: the most tasks to poll (default %d)" % _TICK_SIZE,
                    BadArgument)
        if self._trace is not None:  # tracing: the same ticks with records (traced.py)
            return self._traced(self, n)
        if self._fifo is not None:
            return _fifo(self, n)
        return _general(self, n)

    def set_trace(self, trace):
        """Record into ``trace`` (a ``Trace``), or stop with None. Use ``Trace.attach`` and
        ``detach``, which call this. Not ISR-safe; not from a task of this scheduler."""
        if self._polling:
            raise self._busy()
        if trace is not None and self._traced is None:
            from .._lazy import load

            self._traced = load("shimeji.sched.traced").tick  # loaded only by tracers
        self._trace = trace
        self._plain_slot = TaskSlot if trace is None else None

    def check_thread(self, what):
        """Refuse to poll this (plain, thread-level) scheduler on a thread an executor's worker
        polls on: its polls say what runs in the interpreter's one context cell
        (``core.context``), which the thread that runs plain schedulers (the main loop, the
        REPL) uses too; with threads in parallel the two would overwrite it. Not ISR-safe."""
        if self.level == 0 and core.current_context() is not core.context:
            raise SchedulerBusy(
                "%s() of a StaticScheduler on an executor worker's thread (from one of its "
                "tasks): its polls would share the interpreter's context with the main loop's "
                "thread. Spawn those tasks on the executor (executor.spawn or spawn from the "
                "task), or run this scheduler on a thread of its own (a ThreadBackground, or "
                "the main thread outside Executor.run)" % what)

    def _busy(self):
        return SchedulerBusy("tick() was called from inside a task of the same scheduler: "
                             "await yield_now() to let the other tasks run, and tick from "
                             "the run loop")

    def _end_tick(self, polled, completed):
        fifo = self._fifo  # FifoPolicy.has_ready(), inlined for the FIFO policy
        ready = fifo.head is not None if fifo is not None else self.policy.has_ready()
        return owntick.end_tick(self, polled, completed, ready)

    def _interrupted(self, slot, exc):
        # The interruption itself goes to whoever runs the loop; the task's joiners and handle
        # see it as cancelled, so one Ctrl-C is not raised again by every task that joins it.
        # Inside the scheduler's or the shared section, a Cancelled made before (critical.py).
        self._complete(slot, CANCELLED, interrupted_cancelled(self.critical_section, exc))

    @micropython.native  # (as bytecode, its frame went into the traceback of every error or
    def _throw_in(self, slot, join=core.JOIN, _kit=owntick._kit):  # StopIteration its poll
        exc = slot.throw_exc  # ended with: a heap block; no global read: see lifecycle.py)
        slot.throw_exc = None
        slot.w[1] = 0  # (its flag: task/words.py)
        if exc is join:  # no error: a join of the ring ended with a value or an error,
            _kit[0](_kit)  # which the ring's filter raises at the await (owntick.py)
            return slot.coro.send(None)
        slot.cancel_requested = False
        self._unwait(slot)
        return slot.coro.throw(exc)

    def _foreign(self, slot, r):
        slot.throw_exc = ForeignAwaitable(
            "task %d (%r) awaited %r, which is not a shimeji awaitable: %s"
            % (slot.id, slot.name, r, _ADVICE))
        slot.w[1] = 1  # (its flag: task/words.py)
        slot.dirty = True  # (see TaskSlot.dirty)
        slot.w[0] = QUEUED

    def _unwait(self, slot):
        """Take ``slot`` off whatever it waits on (wait list, timer) and clear wait state."""
        waiting_on = slot.waiting_on
        if waiting_on is not None:
            waiting_on.remove(slot)
        if slot.timer is not None:
            slot.timer.cancel()
        if slot.w[0] == _ASLEEP:  # its ring sleep ends: a wake may queue it now (waking.py)
            slot.w[0] = _WAITING
        slot.wait_phase = 0
        slot.wait_key = None
        slot.wait_status = 0
        slot.wait_value = None

    @micropython.native  # (no global read: defaults of the same names, see lifecycle.py's spawn)
    def _complete(self, slot, status, value, kept_error=kept_error, completed_ref=completed_ref,
                  wake_joiners=wake_joiners):
        if self._trace is not None:  # trace.kinds COMPLETE, FAIL, CANCEL for OK, FAILED...
            self._trace.record(status + _TRACE_DONE, slot.id, 0)
        if status == _FAILED:  # an error made on a full heap is kept as a copy (errors.py)
            slot.coro = None  # (first: its frame's memory is free for the copy)
            value = kept_error(value)
        handle = slot.handle
        if handle._ref is slot:  # (a detached handle stays detached)
            handle._ref = value if value is None else completed_ref(status, value)
        w = slot.w  # (its words: task/words.py)
        if w[4] < 0xFFFF:  # its timer armed (W_TPOS: slot.timer.pos >= 0)
            slot.timer.cancel()
        # What only a dirty slot can hold (TaskSlot.dirty): a clean one's wait list, wait
        # fields, joiners and name are empty, as the FIFO tick's in-line completion reads
        # them (-1.1k instructions a value-returning task's completion).
        if slot.dirty:
            # self._unwait(slot), inlined: a finished task rarely still waits on anything
            waiting_on = slot.waiting_on
            if waiting_on is not None:
                waiting_on.remove(slot)
            slot.wait_phase = 0
            slot.wait_key = None
            slot.wait_status = 0
            slot.wait_value = None
            joiners = slot.joiners
            if joiners.head is not None:
                wake_joiners(joiners, slot.id, status, value)
            if slot.name is not None:  # a free slot's name is None (spawn does not write it)
                slot.name = None
                if not slot.handle_out:  # a handle the slot reuses is nameless too
                    handle.name = None  # (detached.py)
            slot.dirty = False  # (everything it stands for is seen to above)
        if w[1]:  # a throw (its flag, set and cleared with throw_exc: task/words.py) is cleared
            slot.throw_exc = None  # dirty or not: a timeout's expiry sets it alone
            w[1] = 0  # (cancel_requested is only ever set with it)
            slot.cancel_requested = False
        slot.coro = None
        w[7] = 0  # W_SEND: a generator next (the in-line spawns do not write it)
        w[0] = 0  # FREE first: a wake from now on is a no-op...
        w[2] = 0  # ...so none can leave rewoken set for the next task (task/words.py)
        owner = slot.owner  # (a caller-owned slot's is never self: TaskPool._owned_by)
        if owner is self:  # on top of the free list (TaskPool._free_push, inlined: it keeps
            slot.run_next = self._free_head  # its sched, TaskSlot.sched)
            self._free_head = slot
        else:
            slot.sched = None
            if slot.pooled:  # a slot that moved here from another worker goes home
                owner._give_back(slot)


owntick.base_complete[0] = StaticScheduler._complete  # tick_fifo completes in line if it is
