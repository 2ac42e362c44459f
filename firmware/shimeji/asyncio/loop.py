"""The event loop: ``run``, ``create_task``, ``sleep``, ``current_task`` and ``Loop``.

One ``Loop`` is current at a time (``get_event_loop``; ``new_event_loop`` makes a fresh one and
makes it current). It owns a ``FacadeScheduler`` (FIFO, grow mode) with a 1 ms ``Timer``, and runs
them with the steps of shimeji's ``RunLoop``: turn the timer, tick, idle until the next deadline.

ThreadSafeFlag wakes are delivered after each tick, with the timer's, as MicroPython polls its
flags with its streams.

Design note: stopping at once. ``run_until_complete`` returns as soon as its task finishes, as
MicroPython's does, even if other tasks are runnable in the same tick: the completion raises a
pre-made ``_StopTick`` out of the tick (the scheduler's ``finally`` puts its run queue back),
so nothing else runs. The remaining tasks stay queued for the next run.
"""

import micropython
from micropython import const

from .. import core
from ..sched import loopthread as _loopthread
from ..sched.foreign import shield as _shield
from ..sched.lifecycle import _CORO_TYPE
from ..sched.runloop import RunLoop
from ..task.slot import PENDING as _PENDING
from ..task.slot import JoinHandle, TaskSlot
from ..time.timer import Timer
from .contexts import copy_context, in_context, with_contexts
from .facadesched import FacadeScheduler
from .loopcalls import LoopCallbacks
from .onworkers import refuse_on_worker
from .sleeping import adopt_armed_sleep, sleep, sleep_ms  # noqa: F401 (loop's names)
from .stopping import LoopStopping, _already_running, _report, _stop_tick, _StopTick
from .task import Task, _gathers, in_callback

try:
    from _thread import get_ident as _get_ident
except ImportError:  # a port without threads: one thread runs every loop
    _get_ident = None

_spawn_task = FacadeScheduler.spawn_task

_ctx = core.context
_CAPACITY = 16  # static slots; more are made on demand (see ``Loop.grown``)
_ID_MASK = const(0x3FFFFFFF)  # task ids wrap below this (lifecycle.py)


class Loop(LoopCallbacks, LoopStopping):
    """asyncio's event loop API over a shimeji scheduler (``call_soon``, ``call_later``,
    ``call_at``, ``create_future`` and the exception handler's methods from loopcalls.py,
    ``run_forever`` and ``stop`` from stopping.py). Not ISR-safe."""

    def __init__(self, capacity=_CAPACITY):
        self.timer = Timer()
        self.sched = FacadeScheduler(self, capacity, self.timer)
        self.runloop = RunLoop(self.sched)
        self.main = None
        self._stopping = False
        self._stop_waiter = None
        self._flags_head = None  # ThreadSafeFlags set since the last turn
        self._flags_tail = None
        self._cs = self.sched.critical_section
        self._threadsafe = None  # call_soon_threadsafe's queue, made at its first call
        self._tid = None  # the thread running it (_thread.get_ident()), while it runs
        self._reports = {}  # task -> its _report coroutine, spawned and not run yet

    @property
    def grown(self):
        """Task slots made beyond the static capacity: what a static build would need more."""
        return self.sched.grown

    def stop_tick(self):
        exc = _stop_tick
        exc.__traceback__ = None
        raise exc

    def queue_flag(self, flag):
        """Called by ``ThreadSafeFlag.set`` inside the critical section (stores only: it
        cannot raise there); ``set`` then ends an idle wait (``idle_notify``) after. ISR-safe."""
        flag.flag_next = None
        tail = self._flags_tail
        if tail is None:
            self._flags_head = flag
        else:
            tail.flag_next = flag
        self._flags_tail = flag

    def fire_flags(self):
        """Deliver the wakes of the ThreadSafeFlags set since the last call. Not ISR-safe."""
        cs = self._cs
        state = cs.enter()
        flag = self._flags_head
        self._flags_head = None
        self._flags_tail = None
        cs.exit(state)
        while flag is not None:
            nxt = flag.flag_next
            flag.flag_next = None
            flag.flag_queued = False
            flag.wake()
            flag = nxt

    def _report_later(self, task):
        coro = _report(self, task)
        self._reports[task] = coro
        self.sched.spawn(coro).detach()

    def create_task(self, coro, name=None, context=None):
        """Schedule ``coro`` on this loop; returns its ``Task`` (named ``name``). On CPython
        its steps run in ``context`` (None: a copy of the current one); on MicroPython (no
        ``contextvars``) ``context`` is ignored. ``WrongThread`` on a worker's thread."""
        if core._threads:
            refuse_on_worker("loop.create_task()")
        if type(coro) is not _CORO_TYPE and not hasattr(coro, "send"):
            coro = as_coro(coro)
        t = Task(coro)
        if copy_context is not None:
            coro, t._context = in_context(coro, context)
        self.sched.spawn_task(t, coro)
        return t if name is None else _with_name(t, name)

    def run_until_complete(self, aw):
        """Run until ``aw`` (a coroutine or Task) finishes; returns its result or raises.
        ``RuntimeError`` from inside a task of this loop, before ``aw`` is scheduled."""
        if self.sched._polling:
            raise _already_running()
        _loopthread.refuse_others("asyncio's run_until_complete()")  # (aw not scheduled yet)
        task = aw if isinstance(aw, Task) else self.create_task(aw)
        return self._run(task)

    def _run(self, task):
        global _running
        if self.sched._polling:
            raise _already_running()
        sched = self.sched  # first: SchedulerBusy while another thread's loop polls (nothing
        mine = _loopthread.enter(sched.timer, "asyncio's loop")  # changed): see the finally
        prev = self.main
        prev_running = _running
        prev_tid = self._tid
        if _get_ident is not None:
            self._tid = _get_ident()
        self.main = task
        sched.main = task  # (its completion stops the tick: FacadeScheduler._complete_task,
        slot = task._ref
        if slot.__class__ is TaskSlot and slot.pooled and slot.owner is sched:
            slot.owner = sched.main_owner  # or its slot's owner, _MainOwner, after tick_fifo's)
            slot.dirty = True  # (a slot not of the pool now: the completion's slow way)
        _running = self
        rl = self.runloop
        # The asyncio shield stays up for the whole run, as in RunLoop.run, instead of going
        # up and down around every tick.
        shielding = sched._shielding
        if shielding:
            _shield.on()
            sched._shielding = False
        try:
            while task._state() <= _PENDING:
                rl.poll_io()  # readiness first, as MicroPython polls before it runs a task
                t = rl.tick()
                if task._state() > _PENDING:
                    break
                turn = rl.turn()  # the round's one clock read (RunLoop.run's order)
                if self._flags_head is not None:
                    self.fire_flags()
                elif not t.has_remaining:
                    rl.idle_for(turn)
        except _StopTick:
            pass
        finally:
            _loopthread.leave(mine, sched.timer)
            if task._callbacks and task._state() > _PENDING:
                from .futures import call_main_callbacks  # (loaded on first use)
                call_main_callbacks(self, task)  # (CPython's loop: before run() returns)
            if shielding:
                sched._shielding = True
                _shield.off()
            self.main = prev
            sched.main = prev
            if slot.__class__ is TaskSlot and slot.owner is sched.main_owner:
                slot.owner = sched  # the run ended before its task did
            _running = prev_running
            self._tid = prev_tid
        task.state = False
        return task.result()

    def close(self):
        """Drop the failed tasks' reports not run yet (``_forget``); RuntimeError while running."""
        if self.main is not None:
            raise RuntimeError("Cannot close a running event loop: close it after run() returns")
        _forget(self)

    def time(self):
        """The loop's clock in seconds, as CPython's ``loop.time()`` (for ``timeout_at``): its
        timer's ticks (they wrap after 2**30 ticks, ~12 days at 1 ms)."""
        timer = self.timer
        return timer.now() * timer.tick_us / 1000000

    def is_running(self):
        return self.main is not None


def as_coro(aw):
    """A coroutine awaiting ``aw``, an awaitable that is not one (``sleep(0)``, ``Event.wait()``,
    ``Lock.acquire()``: CPython's are coroutines, so ``create_task`` takes them there).
    ``TypeError("coroutine expected")`` for what is not awaitable, or a Task (as asyncio's)."""
    if (isinstance(aw, (str, bytes, JoinHandle))
            or not (hasattr(aw, "__next__") or hasattr(aw, "__await__"))):
        raise TypeError("coroutine expected")
    armed = adopt_armed_sleep(aw)  # shimeji.sleep_ms(n): armed on the calling task
    return _await(aw) if armed is None else armed


async def _await(aw):
    return await aw


_loop = None
_running = None


def get_event_loop(runq_len=0, waitq_len=0):
    """The current loop (made on first use)."""
    global _loop
    if _loop is None:
        _loop = Loop()
    return _loop


def new_event_loop():
    """Reset the event loop and return it: the tasks of the old one are dropped. An idle loop
    (not running; no task, queued wake or armed timer entry) is reset and returned, as
    MicroPython returns its one ``Loop`` (its slots are kept); otherwise a fresh one is made."""
    global _loop
    old = _loop
    if (old is not None and old.main is None and old._flags_head is None
            and old.sched.live_count() == 0 and old.timer.next_in_us() < 0):
        old._stopping = False
        old._stop_waiter = None
    else:
        _forget(old)
        _loop = Loop()
    del _gathers[:]  # the dropped tasks' gathers never resume: forget them
    return _loop


def set_event_loop(loop):
    global _loop
    if _loop is not loop:
        _forget(_loop)
    _loop = loop


def _forget(loop):
    # A loop dropped (or closed) before a failed task's report had its round: the report's
    # coroutine, never started, is closed (MicroPython's asyncio queues the task itself
    # again, and so leaves nothing behind; CPython warned "coroutine '_report' was never
    # awaited" when such a loop was collected).
    if loop is not None:
        reports = loop._reports
        for coro in reports.values():
            coro.close()
        reports.clear()


def get_running_loop():
    """The loop running on this thread; ``RuntimeError`` if none is (CPython's)."""
    if _running is None or (_get_ident is not None and _running._tid != _get_ident()):
        raise RuntimeError("no running event loop")
    return _running


@micropython.native
def create_task(coro, name=None, _new=object.__new__, _task=Task, _coro_type=_CORO_TYPE,
                _threads=core._threads):
    """Schedule ``coro`` to run concurrently; returns its ``Task`` (named ``name``, as
    CPython's). ``WrongThread`` on an executor worker's thread. Not ISR-safe."""
    # Design note: one Python-level call per task. The Task is made without ``__init__`` and
    # holds only its slot (see Task); a task of the running loop creating it takes a free slot
    # and queues it on the tick's own list here (StaticScheduler._start's common case, in line:
    # tick_fifo polls on this thread, nothing woken this poll, ids not wrapped: all three said
    # by _local_ok, see fastpath.py). Its globals are default-argument locals.
    if _threads:  # (an executor's workers registered: is this one of their threads?)
        refuse_on_worker("asyncio.create_task()")
    if name is not None:
        return _with_name(create_task(coro), name)
    loop = _running
    if loop is None:
        loop = get_event_loop()
    if coro.__class__ is not _coro_type and not hasattr(coro, "send"):
        coro = as_coro(coro)  # (raises TypeError for what is not awaitable)
    t = _new(_task)
    sched = loop.sched
    slot = sched._free_head
    if slot is None or not sched._local_ok:  # (a wake into the inbox clears _local_ok)
        _spawn_task(sched, t, coro)  # (the method, without its lookup on the scheduler)
        return t
    task_id = sched._next_id
    if task_id >= _ID_MASK:  # (_new_id's fast case: _local_ok means the ids never wrapped)
        _spawn_task(sched, t, coro)
        return t
    sched._next_id = task_id + 1
    sched._free_head = slot.run_next  # off the free list (TaskPool._take_free, inlined;
    # its run_next stays: the free list's top, task/pool.py)
    t._ref = slot
    slot.handle = t
    slot.handle_out = True  # handed out: a later spawn in this slot makes a new handle
    slot.coro = coro  # (its sched is sched: a free pool slot keeps it, TaskSlot.sched)
    slot.id = task_id  # (its name is None: a free slot's is, see sched/detached.py; its
    # state word stays FREE until its first poll, as spawn's in-line case leaves it, and
    # state_of() reads QUEUED for it: task/words.py W_STATE; its pol.polls stays 0: the
    # facade's policy is FIFO)
    if coro.__class__ is not _coro_type:  # (CPython's context wrapper, an awaitable with send)
        slot.w[7] = 1  # not a generator: polled by its own send (task/words.py W_SEND)
    tail = sched._local_tail  # linked through run_next: tick_fifo splices the list in whole
    if tail is None:
        sched._local_head = slot
        sched._news[0] = 1  # (tick_fifo reads this one word per poll)
    else:
        tail.run_next = slot
    sched._local_tail = slot  # (counted by tick_fifo when it splices the list in)
    return t


if copy_context is not None:  # CPython: each task runs in a copy of the context (contexts.py)
    create_task = with_contexts(create_task, as_coro)  # noqa: F811


def _with_name(task, name):
    task.set_name(name)
    return task


def run(coro):
    """Run ``coro`` as the main task of the current loop and return its result."""
    return get_event_loop().run_until_complete(coro)


def current_task(loop=None):
    """The ``Task`` running now; None inside a callback (``call_soon``, ``call_later``, done
    callbacks), as CPython's. ``RuntimeError`` outside a running loop, and on another thread
    than the loop's (the REPL's, while a loop polls on its own); ``WrongThread`` on a worker's."""
    if _running is None or (_get_ident is not None and _running._tid != _get_ident()):
        refuse_on_worker("asyncio.current_task()")
        raise RuntimeError("no running event loop: call current_task() inside a task (or a "
                           "callback) of a running loop")
    slot = _ctx.slot
    if slot is None or slot is in_callback[0]:
        return None
    if not slot.handle_out:  # a detached task's handle: its fields (sched/detached.py)
        slot.handle._ref, slot.handle.id = slot, slot.id
    return slot.handle
