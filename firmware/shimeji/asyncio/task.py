"""The facade's ``Task``, its exceptions, and how ``gather`` waits for tasks.

A ``Task`` is the ``JoinHandle`` of a task slot on the loop's ``StaticScheduler`` (grow mode),
so shimeji tasks can await it and facade tasks can await shimeji handles. Its ``state`` and
``data`` follow MicroPython's asyncio ``Task``: ``state`` is True while it runs, then None
(finished, not awaited) or False (finished and awaited); a task being awaited or gathered
holds that in ``state`` too, and ``data`` names what a waiting task waits on, so that a cancel
is forwarded to the task it awaits, as asyncio does.
"""

import micropython

from .. import core, port
from ..errors import Cancelled
from ..task.slot import (
    OK,
    PENDING,
    RUNNING,
    WAITING,
    JoinHandle,
    TaskSlot,
    _value_of,
)
from .contexts import unwrapped
from .onworkers import refuse_on_worker

_ctx = core.context
_PARK = core.PARK
_threads = core._threads  # (executor workers registered: core.py)
class CancelledError(Cancelled):
    """Raised inside a cancelled task, and by awaiting it. A ``BaseException`` (through
    shimeji's ``Cancelled``), so ``except Exception`` does not swallow it."""


class TimeoutError(port.TIMEOUT_ERROR_BASE):  # noqa: A001 (asyncio's name)
    """``wait_for`` and ``timeout()`` gave up. On CPython a subclass of the built-in
    ``TimeoutError`` (CPython's asyncio raises that one); on MicroPython of ``Exception``."""


class InvalidStateError(Exception):
    """A task's result was asked for before it finished."""


_named = [0]  # default names given (Task.get_name)
# The slot of the task running a callback now (futures.py's ``call``): ``current_task()`` is
# None there, as in CPython, where a callback runs outside any task.
in_callback = [None]
_WAITED = "waited"  # Task.state while other tasks await it
_finish = core.Finish()


class Task(JoinHandle):
    """A coroutine scheduled by ``create_task``: ``cancel()``, ``done()``, ``await task``.

    Not made directly: ``create_task(coro)`` makes and schedules one. Not ISR-safe."""

    # Design note: what a Task costs. ``create_task`` makes a Task without calling
    # ``__init__`` (``object.__new__``) and stores one field in it, ``_ref`` (the slot, then
    # the outcome: JoinHandle's ``_state()`` and ``_value_of``); everything else is a class
    # default until a task needs its own value, so most tasks' attribute tables hold one or two
    # entries. ``id`` is not stored: a Task is never an unused handle (the task's id is its
    # slot's). ``coro`` is stored only by ``Task(coro)`` and for a failure reported to the
    # exception handler; ``get_coro()`` reads the live task's from its slot. ``state`` says
    # whether the task is being awaited; whether it has finished is read from ``_ref``: a task
    # that returned while nobody awaited it keeps ``state`` True (asyncio's None there is kept
    # for a task that failed, whose exception the loop reports unless someone awaits it).
    _ref = None
    id = -1
    coro = None
    data = None  # what it waits on (a Task: cancel is forwarded there)
    state = True
    _callbacks = None  # add_done_callback's, until a watcher task calls them (futures.py)
    _cancels = 0  # cancel() requests not taken back by uncancel() (CPython's cancelling())
    _context = None  # the contextvars.Context its steps run in (CPython; contexts.py)

    def __init__(self, coro=None, globals=None):
        self.coro = coro

    def __repr__(self):
        return "<Task>"

    def get_name(self):
        """The task's name: the one given (``create_task(coro, name=...)``, ``set_name``),
        else ``Task-<n>`` (n counts the tasks asked, as CPython counts those made)."""
        if self.name is None:
            _named[0] += 1
            self.name = "Task-%d" % _named[0]
        return self.name

    def set_name(self, value):
        self.name = str(value)

    def get_coro(self):
        """The task's coroutine (CPython's ``Task.get_coro``)."""
        slot = self._live_slot()
        return unwrapped(self.coro if slot is None else slot.coro)

    def get_context(self):
        """The ``contextvars.Context`` the task's steps run in (CPython 3.12's); None on
        MicroPython, which has no ``contextvars``."""
        return self._context

    def done(self):
        """True once the task returned, raised or was cancelled."""
        return self._state() > PENDING

    def cancel(self, msg=None):
        """Cancel the task: ``CancelledError`` is raised inside it at its next run (in the
        task it awaits, if it awaits one), ``CancelledError(msg)`` if a ``msg`` is given (as
        CPython; without one nothing is allocated). False if it already finished. A task
        cannot cancel itself (``RuntimeError``). Not ISR-safe."""
        if _threads:
            refuse_on_worker("Task.cancel()")
        if self._state() > PENDING or self._live_slot() is None:
            return False
        me = _ctx.slot
        if me is not None and me.handle is self:
            raise RuntimeError("can't cancel self")
        self._cancels += 1
        t = self
        while (isinstance(t.data, Task) and t.data._state() <= PENDING
               and t.data._live_slot() is not None):
            t = t.data
            t._cancels += 1  # (CPython's cancel() cancels the awaited task: it counts there)
        t.throw_in(CancelledError if msg is None else CancelledError(msg))
        return True

    def cancelling(self):
        """How many ``cancel()`` requests the task has had that ``uncancel()`` did not take
        back (CPython 3.11's): ``timeout()`` and ``TaskGroup`` use it to tell their own
        cancel from one that came from outside."""
        return self._cancels

    def uncancel(self):
        """Take back one ``cancel()`` request; returns how many are left (never below 0).
        Call it only for a cancel you made and caught, as CPython 3.11's."""
        n = self._cancels
        if n > 0:
            n -= 1
            self._cancels = n
        return n

    def throw_in(self, exc):
        """Raise ``exc`` (an exception class or instance) inside the task at its next run,
        taking it off whatever it waits on. Not ISR-safe."""
        slot = self._live_slot()
        if slot is None:
            return
        self.data = CancelledError
        slot.throw_exc = exc
        slot.w[1] = 1  # (its flag: task/words.py)
        slot.cancel_requested = True
        slot.dirty = True  # (see TaskSlot.dirty)
        sched = slot.sched
        if slot.w[0] != RUNNING:  # (the state word: task/words.py)
            sched._unwait(slot)
        sched.wake(slot)

    def result(self):
        """The task's return value, or its exception raised. ``InvalidStateError`` if it has
        not finished. Retrieves a failure: the loop's exception handler is not called for it."""
        if self._state() <= PENDING:
            raise InvalidStateError("result is not ready")
        if self.state is None:
            self.state = False  # retrieved (as CPython's result() marks it)
        return JoinHandle.result(self)

    def exception(self):
        """The exception the task raised, or None; ``CancelledError`` raised if it was
        cancelled (as CPython's). ``InvalidStateError`` if it has not finished. Retrieves a
        failure, as ``result()``."""
        status = self._state()
        if status <= PENDING:
            raise InvalidStateError("exception is not set")
        if self.state is None:
            self.state = False
        if status == OK:
            return None
        value = _value_of(self._ref)
        if isinstance(value, Cancelled):
            raise value
        return value

    def add_done_callback(self, fn, context=None):
        """Call ``fn(task)`` from the loop once the task is done (soon, if it is already), as
        CPython's (on CPython in ``context``, else in the context current now). A callback
        that raises is reported to the loop's exception handler."""
        from .futures import add_task_callback

        add_task_callback(self, fn, context)

    def remove_done_callback(self, fn):
        """Remove every ``fn`` not called yet; returns how many were removed.
        ``WrongThread`` on an executor worker's thread (as ``add_done_callback``)."""
        from .futures import remove_callbacks

        if _threads:
            refuse_on_worker("Task.remove_done_callback()")

        return remove_callbacks(self, fn)

    def cancelled(self):
        return self.is_cancelled()

    def __iter__(self):
        if _threads:
            refuse_on_worker("await of an asyncio Task")
        state = self.state
        if state is True:
            if type(self._ref) is not TaskSlot:
                self.state = False  # finished: it has been awaited
            elif _gathers and _gathered(self):
                raise RuntimeError("can't wait")  # it is being gathered
            else:
                self.state = _WAITED
        elif not state:
            self.state = False  # finished: it has been awaited
        elif state is not _WAITED:
            raise RuntimeError("can't wait")
        return self

    __await__ = __iter__

    def __next__(self):
        me = _ctx.slot
        if me is None:
            me = core.current_slot()  # raises NoCurrentTask
        if self._state() > PENDING:
            waiter = me.handle
            if isinstance(waiter, Task):
                waiter.data = None
            me.wait_status = 0
            me.wait_value = None
            me.wait_key = None
            if self._state() == OK:
                value = _value_of(self._ref)
                if value is None:
                    raise _finish.done()
                raise StopIteration(value)
            raise _value_of(self._ref)
        slot = self._live_slot()
        if slot is None:
            raise RuntimeError("this Task was never scheduled: use create_task(coro)")
        if me.waiting_on is slot.joiners:
            return _PARK  # a spurious wake: still waiting for it
        if slot is me:
            raise RuntimeError("a task cannot await itself")
        slot.joiners.push(me)
        slot.dirty = True  # (its completion wakes its joiners: see TaskSlot.dirty)
        waiter = me.handle
        if isinstance(waiter, Task):
            waiter.data = self
        return _PARK


class _Join:
    """Awaits a ``Task`` without forwarding a cancel of the awaiting task to it, or marking
    it awaited (shimeji's join): TaskGroup's exit and done callbacks' watcher use it."""

    def __init__(self, task):
        self.task = task

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        return _join_next(self.task)


_join_next = JoinHandle.__next__
_REMOVE = "gathering"  # the gather task's data while it waits
_gathers = []  # the _Gathers waiting now (of every loop): a failed task looks itself up there


def _gathered(t):
    for g in _gathers:
        if t in g.ts:
            return True
    return False


class _Gather:
    """A ``gather`` waiting for its tasks: awaiting it joins one unfinished task at a time,
    the last one first, until none is left or the gather is woken early (a task failed, the
    gather was cancelled). A task's completion wakes it as it wakes any joiner; only a failure
    looks the gather up (in ``_gathers``), so a task that returns costs the gather nothing."""

    def __init__(self, task, ts, return_exceptions):
        self.task = task
        self.ts = ts
        self.return_exceptions = return_exceptions
        self.state = 0  # the exception that ended the wait early, if one did
        self.pos = len(ts) - 1  # tasks after this one have finished
        self.values = False  # True once one of those is seen to have returned a value or failed

    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _slot_type=TaskSlot):
        me = _ctx.slot
        if me.wait_phase:
            if me.waiting_on is not None:
                return _PARK  # a spurious wake: still joined
            me.wait_phase = 0
            me.wait_status = 0
            me.wait_value = None
            me.wait_key = None
        if self.task.data is not _REMOVE:
            raise _finish.done()  # woken early by a failure (gather's state says which)
        ts = self.ts
        i = self.pos
        while i >= 0:
            slot = ts[i]._ref
            if slot is not None:  # (None: it returned None, the common case)
                if slot.__class__ is _slot_type:
                    self.pos = i
                    me.wait_phase = 1
                    slot.joiners.push(me)
                    slot.dirty = True  # (see TaskSlot.dirty)
                    return _PARK
                self.values = True
            i -= 1
        self.pos = -1
        raise _finish.done()


def _fail_gathered(t, exc):
    # ``t`` failed (or was cancelled) while nobody awaited it: True if a gather waits for it.
    # A gather without return_exceptions is woken with ``exc``, as asyncio's callback does.
    found = False
    for g in _gathers:
        if t in g.ts:
            found = True
            gt = g.task
            if gt.data is _REMOVE and not g.return_exceptions:
                g.state = exc
                gt.data = None
                slot = gt._live_slot()
                if slot is not None:
                    sched = slot.sched
                    if slot.w[0] >= WAITING:  # (or ASLEEP: core.py)
                        sched._unwait(slot)
                    sched.wake(slot)
    return found
