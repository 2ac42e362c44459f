"""CPython's ``Future``, and the done callbacks of Futures and Tasks (the loop's
``call_soon``/``call_later``/``call_at`` are in handles.py).

None of it is on a hot path: a ``Future`` is a plain object with a ``WaitList`` of the tasks
awaiting it, and every callback runs in a detached task of the loop's scheduler, spawned when
it is due. That keeps CPython's order (a callback made ready runs after the tasks already
runnable, its handles and the tasks share one FIFO) and lets a callback do what a task step
may: set a Future, create a task, cancel one. A callback that raises is reported to the loop's
exception handler (``Exception in callback ...``) and the loop goes on, as in CPython.

Design note: a ``Task``'s done callbacks cost its completion nothing. ``add_done_callback`` on
a running task spawns one watcher task that joins it (``task._Join``: not an await, so the task
still counts as unretrieved) and calls the callbacks once it is done. The completion path of a
task without callbacks is untouched; with them, the watcher is woken as any joiner.
"""

import sys

from micropython import const

from .. import core
from ..errors import Cancelled
from ..task.slot import TaskSlot
from ..task.waitlist import WaitList
from .contexts import ContextCall, in_context_call
from .onworkers import (
    locked_add,
    locked_finish,
    locked_remove,
    locked_settle,
    locked_wait,
    refuse_on_worker,
)
from .stopping import _print_exception
from .task import CancelledError, InvalidStateError, Task, _Join, in_callback

_ctx = core.context
_threads = core._threads  # executor workers registered: onworkers.py

_PENDING = const(0)
_DONE = const(1)
_CANCELLED = const(2)


def _loop():
    from .loop import get_event_loop

    return get_event_loop()


class Future:
    """A result set later (``set_result``, ``set_exception``, ``cancel``), awaited by tasks:
    ``await fut`` returns the result or raises the exception. ``loop.create_future()`` makes
    one. Cancelling a task that awaits it cancels the Future, as in CPython. Not ISR-safe."""

    def __init__(self, loop=None):
        self._loop = loop
        self._state = _PENDING
        self._result = None
        self._exception = None  # (a cancelled Future keeps its CancelledError here)
        self._callbacks = None  # done callbacks and awaiting task slots, in the order they came
        self._waiters = None  # WaitList of the task slots awaiting it, made by the first

    def __repr__(self):
        return "<Future %s>" % ("pending", "finished", "cancelled")[self._state]

    def get_loop(self):
        return self._loop if self._loop is not None else _loop()

    def done(self):
        return self._state != _PENDING

    def cancelled(self):
        return self._state == _CANCELLED

    def result(self):
        """The result; raises the exception set (``CancelledError`` if cancelled).
        ``InvalidStateError`` before it is done."""
        if self._state == _PENDING:
            raise InvalidStateError("Result is not set: await the Future first")
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self):
        """The exception set, or None; raises ``CancelledError`` if cancelled.
        ``InvalidStateError`` before it is done."""
        if self._state == _PENDING:
            raise InvalidStateError("Exception is not set: await the Future first")
        if self._state == _CANCELLED:
            raise self._exception
        return self._exception

    def _check_pending(self, what):
        if self._state != _PENDING:
            raise InvalidStateError("%s: the Future is already %s" % (
                what, "cancelled" if self._state == _CANCELLED else "done"))

    def set_result(self, result):
        """Make the Future done with ``result`` and wake its awaiters.
        ``InvalidStateError`` if it is done already."""
        if _threads:
            if not locked_settle(self, _DONE, result, None):
                self._check_pending("set_result()")  # (raises)
            self._finish()
            return
        self._check_pending("set_result()")
        self._result = result
        self._state = _DONE
        self._finish()

    def set_exception(self, exception):
        """Make the Future done with ``exception`` (a class or an instance) raised to its
        awaiters. ``TypeError`` for ``StopIteration`` or what is not an exception (CPython's)."""
        self._check_pending("set_exception()")
        if isinstance(exception, type):
            exception = exception()
        if not isinstance(exception, BaseException):
            raise TypeError("set_exception(exception): an exception class or instance is "
                            "expected, got %r" % (exception,))
        if isinstance(exception, StopIteration):
            raise TypeError("StopIteration interacts badly with generators and cannot be "
                            "raised into a Future: raise another exception")
        if _threads:
            if not locked_settle(self, _DONE, None, exception):
                self._check_pending("set_exception()")  # (raises)
            self._finish()
            return
        self._exception = exception
        self._state = _DONE
        self._finish()

    def cancel(self, msg=None):
        """Cancel the Future: its awaiters get ``CancelledError``. False if it is done."""
        if self._state != _PENDING:
            return False
        exc = CancelledError() if msg is None else CancelledError(msg)
        if _threads:
            if not locked_settle(self, _CANCELLED, None, exc):
                return False
            self._finish()
            return True
        self._exception = exc
        self._state = _CANCELLED
        self._finish()
        return True

    def _finish(self):
        # Wake the awaiters and run the callbacks in the order they came (CPython's: an
        # awaiting task is a done callback there): consecutive callbacks share one runner task.
        # With executor workers registered, under the section (onworkers.py), and from a
        # worker's thread the loop spawns each runner (call_soon_threadsafe).
        if _threads:
            entries = locked_finish(self)
            q = None  # (the awaiters are woken)
            there = core.current_context() is not _ctx
        else:
            entries = self._callbacks
            q = self._waiters
            there = False
        if not entries:
            return
        self._callbacks = None
        run = None
        for e in entries:
            if type(e) is TaskSlot:  # a task awaiting it (still, unless it was cancelled)
                run = None
                if q is not None and e.waiting_on is q:
                    q.remove(e)
                    if e.sched is not None:
                        e.sched.wake(e)
            elif run is None:
                run = [e]
                loop = self.get_loop()
                if there:
                    loop.call_soon_threadsafe(run_soon, loop, _run_callbacks(loop, run, self))
                else:
                    run_soon(loop, _run_callbacks(loop, run, self))
            else:
                run.append(e)  # (the runner has not run yet: it calls this one too)

    def add_done_callback(self, fn, context=None):
        """Call ``fn(fut)`` from the loop once the Future is done (soon, if it is already); on
        CPython in ``context``, else in the context current now (as CPython's).
        ``WrongThread`` on an executor worker's thread."""
        if _threads:
            refuse_on_worker("Future.add_done_callback()")
            if not locked_add(self, in_context_call(fn, context)):  # (done meanwhile)
                self.get_loop().call_soon(fn, self, context=context)
        elif self._state != _PENDING:
            self.get_loop().call_soon(fn, self, context=context)
        else:
            self._add(in_context_call(fn, context))

    def _add(self, entry):
        if self._callbacks is None:
            self._callbacks = [entry]
        else:
            self._callbacks.append(entry)

    def remove_done_callback(self, fn):
        """Remove every ``fn`` not called yet; returns how many were removed. From any
        thread: with executor workers registered, under the section (onworkers.py)."""
        return remove_callbacks(self, fn)

    def __iter__(self):
        if self._state == _PENDING:
            me = core.current_slot()
            if _threads:  # a worker's task may set it meanwhile (onworkers.py)
                yield from locked_wait(self, me)
                return self.result()
            q = self._waiters
            if q is None:
                q = self._waiters = WaitList()
            try:
                while self._state == _PENDING:
                    if me.waiting_on is not q:
                        q.push(me)
                        self._add(me)
                    yield core.PARK
            except Cancelled:
                self.cancel()  # (CPython: cancelling the awaiting task cancels the Future)
                raise
            finally:
                if me.waiting_on is q:
                    q.remove(me)
        return self.result()

    __await__ = __iter__


def isfuture(obj):
    """True for a ``Future`` or a ``Task``."""
    return isinstance(obj, Future) or isinstance(obj, Task)


def remove_callbacks(fut, fn):
    def keep(cb):  # (slots: the Future's awaiters)
        return type(cb) is TaskSlot or (cb.fn if type(cb) is ContextCall else cb) != fn

    if _threads:  # a worker's task may register as an awaiter meanwhile (onworkers.py)
        return locked_remove(fut, keep)
    cbs = fut._callbacks
    if not cbs:
        return 0
    kept = [cb for cb in cbs if keep(cb)]
    fut._callbacks = kept
    return len(cbs) - len(kept)


def add_task_callback(task, fn, context=None):
    if _threads:
        refuse_on_worker("Task.add_done_callback()")
    if task.done():
        _loop().call_soon(fn, task, context=context)
        return
    fn = in_context_call(fn, context)
    if task._callbacks is None:
        task._callbacks = [fn]
        task._live_slot().sched.spawn_detached(_watch(task))
    else:
        task._callbacks.append(fn)


async def _watch(task):
    try:
        await _Join(task)
    except GeneratorExit:
        raise
    except BaseException:  # noqa: S110 (the task's outcome, read by the callbacks)
        pass
    cbs = task._callbacks
    task._callbacks = None
    if cbs:
        await _run_callbacks(_loop(), cbs, task)


def call_main_callbacks(loop, task):
    """The done callbacks of the main task of ``loop.run_until_complete``, called as its run
    ends (CPython's loop runs them before ``run()`` returns)."""
    cbs = task._callbacks
    task._callbacks = None  # (the watcher task add_done_callback spawned finds none left)
    for fn in cbs:
        call(loop, fn, (task,), None)


def run_soon(loop, coro):
    loop.sched.spawn_detached(coro)


async def _run_callbacks(loop, cbs, arg):
    for fn in cbs:
        call(loop, fn, (arg,), None)


def call(loop, fn, args, handle):
    """Call ``fn(*args)``; an exception is reported to ``loop``'s exception handler. Inside it
    ``current_task()`` is None, as in CPython."""
    prev = in_callback[0]
    in_callback[0] = _ctx.slot
    try:
        context = None if handle is None else handle._context
        if context is None:
            fn(*args)
        else:
            context.run(fn, *args)  # (CPython: the context it was scheduled in)
    except Exception as e:
        context = {"message": "Exception in callback %r" % (fn,), "exception": e}
        if handle is not None:
            context["handle"] = handle
        try:
            loop.call_exception_handler(context)
        except Exception as e2:  # (CPython's loop logs it and goes on)
            print("Unhandled error in exception handler", file=sys.stderr)
            _print_exception(e2)
    finally:
        in_callback[0] = prev
