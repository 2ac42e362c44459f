"""``Worker``: a ``StaticScheduler`` that polls on its own thread (or core) beside others.

Design note: who may touch what. A worker's run queue (its policy) and its timer wheel are
touched only on the worker's own thread. Everything another thread may touch is guarded by the
runtime's critical section, one re-entrant lock shared by all workers: the wake inbox, the
pool's free list (spawns may come from any thread), a task's joiners and completion, and a
steal request. Stealing is by request: a worker that ran dry asks one busy worker (``_asked``),
which hands over half of its runnable tasks at its next tick boundary, into the thief's inbox.
A victim is never waited for: a worker already asked by another thief is skipped. Only QUEUED
tasks move, and not those with an armed timer entry (the wheel belongs to the victim's thread);
a moved task's ``slot.sched`` changes under the lock, and ``wake()`` forwards a wake that
arrives at the old worker. So a task is in one run queue or inbox at a time, and only the
worker whose queue it was taken from polls it: never two at once.
"""

import micropython
from micropython import const

from .. import core, port
from ..errors import Cancelled, PoolFull, SchedulerBusy, kept_error
from ..sched import wordtick
from ..sched.scheduler import StaticScheduler
from ..task.slot import FREE, RUNNING, TaskSlot, completed_ref
from ..time.timer import Timer
from .idle import CALLBACK_THREAD as _CALLBACK_THREAD
from .idle import Idling
from .shutdown import cancel_now, shut_down_worker
from .spawning import spawn_allocated, spawn_here
from .steal import STEAL_MAX as _STEAL_MAX
from .steal import Stealing

_TICK_SIZE = const(256)  # StaticScheduler.DEFAULT_TICK_SIZE
_CROSS_CORE_WAKE = const(21)  # trace.kinds.CROSS_CORE_WAKE
_INJECTOR_EVERY = 31  # a busy worker takes one injected task every 32 turns of its loop
# With a GIL a busy worker waits without it (port.sleep_idle: a thread switch) once this many
# ms have passed since its last wait: a GIL handed over at a bytecode branch reaches nobody
# where equal-priority threads switch only when one blocks (FreeRTOS on a one-core ESP32-C3,
# SCHED_FIFO on one CPU), so the other workers and the thread that calls close() never ran.
_GIL_TURN_MS = const(10)
_OK = const(2)  # task.slot.OK, FAILED
_WRAPPED = (BaseException, TaskSlot)  # what a handle keeps wrapped (completed_ref)
_FAILED = const(3)


class Worker(Stealing, Idling, StaticScheduler):
    """One worker of an ``Executor``: make them through ``Executor(workers=N)``."""

    parallel = True
    # ms between a busy worker's GIL hand-overs; 0: none (no GIL: the threads run in parallel)
    gil_turn_ms = _GIL_TURN_MS if port.GIL else 0

    def __init__(self, executor, index, capacity, policy, tick_us, critical_section=None):
        StaticScheduler.__init__(self, capacity, policy=policy, critical_section=critical_section,
                                 timer=Timer(tick_us=tick_us))
        import _thread

        self.executor = executor
        self.index = index
        self._ctx = core.Context()
        self._ctx.ring = core.new_yield_ring()  # this worker thread's yield_now ring
        self._shielding = False  # the executor raises the asyncio shield once for all
        self._bell = _thread.allocate_lock()
        self._bell.acquire()  # held: a sleeping worker blocks on it until rung
        self.sleeping = False
        self._request = None  # the worker that asked this one for work
        self._asked = None  # the worker this one asked, until it answers
        self._answer = -1  # how many tasks the last answer handed over
        self._unshared = False  # the last hand-over gave nothing: ring no sleeper for it
        self._idle_in_poller = False  # sleeping in the I/O poller's wait, not on the bell
        self._thread = None  # ident of the thread running this worker
        self._pinned = None  # the main task of run(): never handed to another worker
        self._building = None  # the coroutine being spawned under the section (see spawn)
        self._spare = None  # a handle made outside the section for the next spawn (spare.py)
        self._callbacks = False  # soft-interrupt callbacks run on this worker's thread
        self.polled = 0
        self.stolen = 0  # tasks received from other workers
        self.stolen_from = [0] * executor.size
        self.given = 0  # tasks handed to other workers
        self.injected = 0  # tasks spawned here from outside any worker
        self.slept = 0
        self.woken_cross = 0  # rings from other threads that ended a sleep
        self.steal_requests = 0
        self.failed_steals = 0
        self.gil_handovers = 0  # waits a busy worker made only to let other threads run
        # where this worker's steal rounds start: its own xorshift state (steal.py _random),
        # seeded apart per worker so that two thieves do not ask the same victims in step
        self._rng = (0x2545F491 + index * 0x9E3779B) & 0x3FFFFFFF or 1
        # The viper FIFO tick bound for this worker alone: its exception cell is this
        # thread's only (sched/wordtick.py, ``bind``; on rp2's core 1 too)
        self._tick_own = wordtick.bind(self)

    # -- what other threads may call (under the critical section) ----------------------------

    def wake(self, slot):
        """Make the task in ``slot`` runnable; rings the worker if it sleeps. Safe from any
        thread and from interrupt handlers."""
        StaticScheduler.wake(self, slot)
        if self._trace is not None and slot.sched is self:
            self._trace_cross_wake(slot)
        if self.sleeping:
            self.ring()

    @micropython.native  # called inside the section (a completion wakes its joiners): as
    def _trace_cross_wake(self, slot):  # bytecode its frame passed 11 words, a heap block
        # A wake from another worker's thread: CROSS_CORE_WAKE (arg: that worker), side ring
        ctx = core.current_context()
        workers = self.executor.workers
        i = 0 if ctx is not self._ctx else len(workers)
        while i < len(workers):
            if workers[i]._ctx is ctx:
                self._trace.record_isr(_CROSS_CORE_WAKE, slot.id, i)
                return
            i += 1

    @micropython.native  # no check point inside: a callback cannot ring it half-way
    def ring(self):
        """End this worker's sleep, if it sleeps (on its bell, or in its I/O poller). Safe
        from any thread."""
        state = self._enter()
        try:  # (a socket send or a lock release: a section's exit is certain)
            if self.sleeping:
                self.sleeping = False
                self.executor.sleepers -= 1
                self.woken_cross += 1
                if self._idle_in_poller:
                    waker = self.poller._waker if self.poller is not None else None
                    if waker is not None:
                        waker.signal()  # a byte on its wake socket ends the poll at once
                else:
                    self._bell.release()
        finally:
            self._exit(state)

    @micropython.native  # (as _check_outside: its refusal adds no traceback entry)
    def spawn(self, coro, name=None, _base=StaticScheduler.spawn):
        """Run ``coro`` on this worker; returns its ``JoinHandle``. Safe from any thread; not
        from inside the critical section (``WrongLevel``: see ``Executor._check_outside``)."""
        if coro is self._building:  # StaticScheduler.spawn's retry once it reclaimed slots
            return _base(self, coro, name)
        self.executor._check_outside()
        return self._spawn_here(coro, name)

    @micropython.native
    def spawn_detached(self, coro, name=None):
        """``spawn`` for a task nobody joins: returns None (the slot keeps its handle)."""
        self.executor._check_outside()
        self._spawn_here(coro, name, True)

    def _check_spawn(self, coro):
        # The executor's own spawn under the section (``_building``: spawn_here, the injector)
        # was checked before it: nothing may raise inside (it would read an injection's level).
        if coro is not self._building:
            StaticScheduler._check_spawn(self, coro)

    _spawn_here = spawn_here  # (spawning.py: nothing allocated inside the section)
    spawn_allocated = spawn_allocated

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def _build_injected(self, coro, name, injector):
        """Build a task in one of this worker's free pool slots and queue it on ``injector``
        instead of this worker's inbox; its ``JoinHandle``, or None if no slot is free. The
        caller holds the critical section (every reader of the inbox takes it too, so none
        sees the inbox set aside while ``spawn`` links the new slot into an empty one)."""
        head = self._inbox_head
        tail = self._inbox_tail
        self._inbox_head = None
        self._inbox_tail = None
        self._building = coro
        try:
            handle = StaticScheduler.spawn(self, coro, name)
        except PoolFull:
            handle = None
        self._building = None
        slot = self._inbox_head
        self._inbox_head = head
        self._inbox_tail = tail
        self._news[0] = 1  # (the inbox set back: tick_fifo looks again)
        if handle is not None:
            injector.push(slot)
        return handle

    def cancel_slot(self, slot):
        """Cancel the task in ``slot``; from another thread the task leaves its wait on its
        own worker, at its next poll. The ``Cancelled`` is made before the section."""
        own = core.current_context() is self._ctx
        if own:
            self._check_level("cancel")
        exc = Cancelled("the task was cancelled")  # (a MemoryError here: nothing changed)
        state = self._enter()
        other = slot.sched
        if other is not self:  # moved by a steal since the caller read slot.sched: follow it
            self._exit(state)
            if other is None or slot.w[0] == FREE:
                return False
            return other.cancel_slot(slot)
        ok = slot.w[0] != FREE and not slot.cancel_requested
        if ok:
            slot.throw_exc = exc
            slot.w[1] = 1  # (its flag: task/words.py)
            slot.cancel_requested = True
            slot.dirty = True  # (see TaskSlot.dirty)
        self._exit(state)
        if ok:
            if own and slot.w[0] != RUNNING:  # StaticScheduler.cancel_slot's own case: it
                self._unwait(slot)  # leaves its wait now (a call: its frame may be heap)
            self.wake(slot)
        return ok

    def _unwait(self, slot):
        # A join list is shared with the worker that completes the joined task, which pops
        # it under the critical section: unlink under it too.
        state = self._enter()
        try:
            StaticScheduler._unwait(self, slot)
        finally:
            self._exit(state)

    def _complete(self, slot, status, value):
        # What the completion may allocate is made before the section: the copy of an error
        # made on a full heap, the wrapper of a returned exception or slot (completed_ref)
        if status == _FAILED:
            value = kept_error(value)
        elif status == _OK and isinstance(value, _WRAPPED):  # (one test: a call cost ~4.8k
            ref = completed_ref(status, value)  # instructions a task, tools/instr.py)
            if ref is not value:
                state = self._enter()  # joiners may be linking from other threads
                try:
                    if slot.handle._ref is slot:  # (a detached handle stays detached)
                        slot.handle._ref = ref  # (the base's own store then skips it)
                    StaticScheduler._complete(self, slot, status, value)
                finally:
                    self._exit(state)
                return
        state = self._enter()  # joiners may be linking from other threads
        try:
            StaticScheduler._complete(self, slot, status, value)
        finally:
            self._exit(state)

    # -- the worker's loop ------------------------------------------------------------------------

    @micropython.native
    def tick(self, n=_TICK_SIZE, _ctx=core.context, _type=type, _int=int,
             _base=StaticScheduler.tick):
        """``StaticScheduler.tick``: an untraced FIFO worker's tick is the viper tick bound for
        it alone (``wordtick.bind``: no other thread shares its cell). Allocates nothing in
        steady state. Not ISR-safe: from the worker's loop (or a task of another scheduler)."""
        if self._trace is None and self._polling is False and _type(n) is _int:
            running = _ctx.sched  # (tick()'s checks; it raises what they find)
            if running is None or running.level == 0:
                if self._fifo is None:
                    pass
                else:
                    return self._tick_own(self, n)
        return _base(self, n)

    def run(self, main=None):
        """The worker's loop, on the calling thread: tick; when its own queue is empty, take
        from the injector, steal, take from the injector again, then sleep. With ``main`` (a
        coroutine), returns its result when it finishes. Raises ``ExecutorClosed`` once the
        executor is closed (after this tick)."""
        import _thread

        ex = self.executor
        injector = ex.injector
        if self._thread is not None:  # (its loop, and the finally below, are not re-entrant)
            if main is not None:
                main.close()
            raise SchedulerBusy("worker %d runs already (on thread %r): run each worker on one "
                                "thread, once; spawn or await from its tasks"
                                % (self.index, self._thread))
        self._thread = _thread.get_ident()
        self._callbacks = self._thread == _CALLBACK_THREAD
        core.register_thread(self._ctx)
        handle = None
        if main is not None:
            try:
                handle = self.spawn(main)
            except BaseException:  # (closed, full, not a coroutine) not running: undo the above
                self._stop_serving()
                core.unregister_thread()
                raise
            self._pinned = handle._live_slot()  # main stays here, so this loop sees it finish
        pinned = self._pinned  # (main's slot: its handle's _ref until main ends)
        own = self._tick_own
        turns = 0
        gil_turn = self.gil_turn_ms
        ticks_ms = port.ticks_ms
        ticks_diff = port.ticks_diff
        handed = ticks_ms()
        try:
            while True:
                if ex.closed:
                    self._shut_down()
                    ex._refuse()
                self.timer.turn()
                poller = self.poller
                if poller is not None and poller.waiters:
                    poller.poll(0)  # tasks waiting for I/O: wake those whose object is ready
                if self._trace is None and self._fifo is not None:
                    t = own(self, _TICK_SIZE)  # self.tick()'s common case, without its call
                else:
                    t = self.tick()
                self.polled += t.polled
                if handle is not None and handle._ref is not pinned:  # (_live_slot, in line)
                    self._pinned = None
                    return handle.result()
                if self._request is not None:
                    self._serve()
                if t.has_remaining or self._inbox_head is not None or self.policy.has_ready():
                    turns += 1
                    if gil_turn and ticks_diff(ticks_ms(), handed) >= gil_turn:
                        self.gil_handovers += 1  # a wait without the GIL: the other threads
                        self._gil_wait()  # run (a bytecode branch's release reached none)
                        handed = ticks_ms()
                    if not turns & _INJECTOR_EVERY and injector.head is not None:
                        self._take_injected(1)  # busy workers still drain the injector
                    if t.spawned or t.woken:
                        self._unshared = False  # new work since a hand-over gave none
                    if ex.sleepers and t.polled > 1 and t.has_remaining and not self._unshared:
                        self._share()  # more here than one worker can run: hand it over
                    continue
                if self._take_injected(_STEAL_MAX) or self._steal():
                    continue
                if self._take_injected(_STEAL_MAX):
                    continue
                self._sleep()
                handed = ticks_ms()  # (a wait: the other threads ran, or could have)
        finally:
            self._stop_serving()
            core.unregister_thread()

    _shut_down = shut_down_worker  # (shutdown.py)
    _cancel_now = cancel_now

    def stats(self):
        """This worker's figures, as a dict (allocates: for the REPL and benchmarks)."""
        return {
            "worker": self.index,
            "polled": self.polled,
            "stolen": self.stolen,
            "stolen_from": list(self.stolen_from),
            "given": self.given,
            "injected": self.injected,
            "slept": self.slept,
            "woken_cross": self.woken_cross,
            "steal_requests": self.steal_requests,
            "failed_steals": self.failed_steals,
            "gil_handovers": self.gil_handovers,
        }
