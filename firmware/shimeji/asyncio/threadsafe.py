"""CPython's ``run_coroutine_threadsafe(coro, loop)`` and ``wrap_future(fut)``: handing a
coroutine to a loop from another thread, and awaiting another thread's future in a task.

MicroPython has no ``concurrent.futures``: ``run_coroutine_threadsafe`` returns shimeji's own
small ``ConcurrentFuture``, with the methods a program calls on CPython's ``result(timeout)``,
``exception(timeout)``, ``done()``, ``cancelled()``, ``running()``, ``cancel()`` and
``add_done_callback(fn)``. Its state changes under a ``_thread`` lock; a second lock, held
until it is done, is what ``result()`` blocks on (MicroPython's ``acquire`` has no timeout: a
``result(timeout)`` there naps 1 ms between tries, and ends by its deadline).

The coroutine reaches the loop through ``call_soon_threadsafe``, which also carries a
``cancel()`` made from the calling thread, in order: a cancel before the task starts closes the
coroutine, a later one cancels the task. Ports without ``_thread`` raise ``NoThreads``. Not
ISR-safe (it allocates; from an interrupt handler set a ``ThreadSafeFlag`` instead).
"""

import sys

from .. import port
from ..errors import BadArgument, NoThreads, ShimejiError
from .futures import Future, isfuture
from .stopping import _print_exception
from .task import CancelledError, TimeoutError

_PENDING = 0
_DONE = 1
_CANCELLED = 2


class WouldDeadlock(ShimejiError):
    """``result()`` of a ``run_coroutine_threadsafe`` future was asked for on the thread that
    runs its loop: the loop cannot run the coroutine while that thread waits."""


def _threads():
    try:
        import _thread
    except ImportError:
        raise NoThreads("run_coroutine_threadsafe()/wrap_future() need _thread, which this "
                        "MicroPython port does not have: in a task of the loop use "
                        "create_task(coro); from an interrupt handler set a ThreadSafeFlag "
                        "a task waits on") from None
    return _thread


class ConcurrentFuture:
    """The outcome of a coroutine that ``run_coroutine_threadsafe`` runs on a loop, for the
    thread that handed it over (CPython's ``concurrent.futures.Future`` methods). Every method
    may be called from any thread; none from an interrupt handler."""

    def __init__(self, loop):
        _thread = _threads()
        self._loop = loop
        self._get_ident = _thread.get_ident
        self._lock = _thread.allocate_lock()  # guards the fields below
        self._done_lock = _thread.allocate_lock()  # held until done (what result() waits on)
        self._done_lock.acquire()
        self._state = _PENDING
        self._result = None
        self._exception = None
        self._callbacks = []
        self._task = None  # the loop's Task, once the loop's thread made it

    def __repr__(self):
        return "<ConcurrentFuture %s>" % ("pending", "finished", "cancelled")[self._state]

    def done(self):
        """True once the coroutine returned, raised, or the future was cancelled."""
        return self._state != _PENDING

    def cancelled(self):
        return self._state == _CANCELLED

    def running(self):
        """False: as CPython's for ``run_coroutine_threadsafe``, not running until done."""
        return False

    def cancel(self):
        """Cancel the coroutine (its task, once the loop runs this request); True unless it
        finished already."""
        with self._lock:
            if self._state != _PENDING:
                return self._state == _CANCELLED
            self._state = _CANCELLED
            self._exception = CancelledError()
        self._loop.call_soon_threadsafe(_cancel_task, self)
        self._finish()
        return True

    def result(self, timeout=None):
        """The coroutine's result, or its exception raised (``CancelledError`` if cancelled),
        waiting at most ``timeout`` seconds (None: as long as it takes), then ``TimeoutError``
        (on CPython the built-in's subclass). ``WouldDeadlock`` on the loop's own thread."""
        self._wait(timeout, "result")
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self, timeout=None):
        """The coroutine's exception, or None; waits as ``result()``."""
        self._wait(timeout, "exception")
        if self._state == _CANCELLED:
            raise self._exception
        return self._exception

    def add_done_callback(self, fn):
        """Call ``fn(future)`` once done: in the thread that finishes it (the loop's, or the
        one that cancels it), or at once in this one if it is done already."""
        with self._lock:
            if self._state == _PENDING:
                self._callbacks.append(fn)
                return
        _call(fn, self)

    def _wait(self, timeout, what):
        if timeout is not None and type(timeout) is not int and type(timeout) is not float:
            raise TypeError("%s(timeout): a number of seconds or None, got %r"
                            % (what, timeout))
        if self._state != _PENDING:
            return
        loop = self._loop
        if loop.is_running() and loop._tid == self._get_ident():
            raise WouldDeadlock(
                "%s() of run_coroutine_threadsafe()'s future on the loop's own thread would "
                "wait for ever: in a task, await the coroutine (or asyncio.wrap_future(fut))"
                % what)
        lock = self._done_lock
        if timeout is None:
            lock.acquire()
            lock.release()  # (given back: other waiters take it in turn)
            return
        end = port.ticks_add(port.ticks_ms(), int(timeout * 1000) if timeout > 0 else 0)
        while not lock.acquire(0):
            if port.ticks_diff(end, port.ticks_ms()) <= 0:
                if self._state != _PENDING:
                    return
                raise TimeoutError
            port.sleep_idle(1000)
        lock.release()

    def _set(self, value, exc, state=_DONE):
        # The loop's thread: the task's outcome (False if it was cancelled meanwhile).
        with self._lock:
            if self._state != _PENDING:
                return False
            self._result = value
            self._exception = exc
            self._state = state
        self._finish()
        return True

    def _finish(self):
        self._done_lock.release()
        with self._lock:
            cbs = self._callbacks
            self._callbacks = []
        for fn in cbs:
            _call(fn, self)


def _call(fn, fut):
    try:
        fn(fut)
    except Exception as e:  # (CPython's logs it and goes on)
        print("exception calling callback for", fut, file=sys.stderr)
        _print_exception(e)


def run_coroutine_threadsafe(coro, loop):
    """Run ``coro`` on ``loop`` (running in another thread) and return a ``ConcurrentFuture``
    of its outcome. ``TypeError`` if ``coro`` is not a coroutine (CPython's); ``NoThreads``
    where ``_thread`` is missing."""
    if not hasattr(coro, "send"):
        raise TypeError("A coroutine object is required (call the async function), got %r"
                        % (coro,))
    if not hasattr(loop, "call_soon_threadsafe"):
        raise BadArgument("run_coroutine_threadsafe(coro, loop): give the loop (its thread "
                          "got it from asyncio.get_running_loop()), got %r" % (loop,))
    cf = ConcurrentFuture(loop)
    loop.call_soon_threadsafe(_start, cf, coro)
    return cf


def _start(cf, coro):
    # The loop's thread, in a callback.
    if cf._state == _CANCELLED:
        coro.close()
        return
    task = cf._loop.create_task(coro)
    cf._task = task
    task.add_done_callback(lambda t: _copy_out(t, cf))


def _copy_out(task, cf):
    if task.cancelled():
        cf._set(None, CancelledError(), _CANCELLED)
        return
    exc = task.exception()
    if exc is not None:
        cf._set(None, exc)
    else:
        cf._set(task.result(), None)


def _cancel_task(cf):
    task = cf._task
    if task is not None and not task.done():
        task.cancel()


def wrap_future(future, loop=None):
    """An asyncio ``Future`` of ``loop`` (the current one by default) that follows
    ``future``, a ``ConcurrentFuture`` or any object with its methods (CPython's
    ``concurrent.futures.Future``); a ``Future`` or ``Task`` is returned as it is. Cancelling
    the result cancels ``future``."""
    if isfuture(future):
        return future
    if not (hasattr(future, "add_done_callback") and hasattr(future, "cancelled")):
        raise TypeError("wrap_future(future): a concurrent future (run_coroutine_threadsafe()"
                        "'s) is expected, got %r" % (future,))
    _threads()
    if loop is None:
        from .loop import get_event_loop

        loop = get_event_loop()
    new = Future(loop)

    def source_done(f):  # any thread
        loop.call_soon_threadsafe(_copy_into, new, f)

    def new_done(f):
        if f.cancelled():
            future.cancel()

    new.add_done_callback(new_done)
    future.add_done_callback(source_done)
    return new


def _copy_into(new, f):
    if new.done():
        return
    if f.cancelled():
        new.cancel()
        return
    exc = f.exception()
    if exc is not None:
        new.set_exception(exc)
    else:
        new.set_result(f.result())
