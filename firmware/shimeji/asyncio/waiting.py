"""CPython's ``shield``, ``wait``, ``as_completed``, ``ensure_future`` and ``all_tasks``, which
MicroPython's asyncio lacks, built on ``Future`` and done callbacks (futures.py) as CPython
builds them. Not on a hot path; nothing here is ISR-safe.

Design note: what wait() and as_completed() hand back counts as retrieved. The facade reports
a failed task nobody awaited one round after it failed (MicroPython's rule; CPython reports at
garbage collection), which is before the caller of ``wait()`` can look at its ``done`` set. So
a task that ``wait()`` returns as done, or that ``as_completed()`` yields, is marked retrieved:
its exception is the caller's to read.
"""

from .futures import Future, isfuture
from .task import Task, TimeoutError

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


def _loop():
    from .loop import get_event_loop

    return get_event_loop()


def ensure_future(obj, loop=None):
    """``obj`` if it is a ``Future`` or ``Task``; else a ``Task`` running it (a coroutine or
    an awaitable). ``TypeError`` for anything else, as CPython's."""
    if isfuture(obj):
        return obj
    if loop is None:
        loop = _loop()
    try:
        return loop.create_task(obj)
    except TypeError:
        raise TypeError("ensure_future(obj): a Future, a coroutine or an awaitable is "
                        "required, got %r" % (obj,)) from None


def all_tasks(loop=None):
    """The set of the loop's ``Task``s not done yet (the running loop's by default)."""
    if loop is None:
        from .loop import get_running_loop

        loop = get_running_loop()
    return {s.handle for s in loop.sched.slots
            if s.coro is not None and isinstance(s.handle, Task) and not s.handle.done()}


def _retrieved(f):
    if isinstance(f, Task) and f.state is None:
        f.state = False


def shield(aw):
    """Protect ``aw`` from cancellation: cancelling the task that awaits ``shield(aw)``
    raises ``CancelledError`` there, but ``aw`` (made a Task if it is a coroutine) runs on.
    Cancelling ``aw`` itself still cancels it."""
    inner = ensure_future(aw)
    if inner.done():
        return inner
    outer = Future(_loop())

    def inner_done(inner):
        if outer.cancelled():
            if not inner.cancelled():
                inner.exception()  # retrieved: the awaiter was cancelled, as in CPython
            return
        if inner.cancelled():
            outer.cancel()
            return
        exc = inner.exception()
        if exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())

    def outer_done(outer):
        if not inner.done():
            inner.remove_done_callback(inner_done)

    inner.add_done_callback(inner_done)
    outer.add_done_callback(outer_done)
    return outer


def _futures(fs, what):
    if isfuture(fs) or hasattr(fs, "send"):
        raise TypeError("%s: expected an iterable of Tasks or Futures, not %s"
                        % (what, type(fs).__name__))
    out = []
    for f in fs:
        if f not in out:
            out.append(f)
    return out


async def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the Tasks/Futures of ``fs`` until ``return_when`` (``FIRST_COMPLETED``,
    ``FIRST_EXCEPTION``, ``ALL_COMPLETED``) or ``timeout`` seconds; returns two sets
    ``(done, pending)``. Nothing is cancelled, and a timeout raises nothing. As CPython 3.11+,
    coroutines are refused (``TypeError``: make them tasks with ``create_task``); an empty
    ``fs`` or an unknown ``return_when`` is a ``ValueError``."""
    fs = _futures(fs, "wait(fs)")
    for f in fs:
        if not isfuture(f):
            raise TypeError("wait(fs): pass Tasks or Futures, not %r: make a coroutine a "
                            "task with create_task(coro) first (CPython 3.11+ refuses them "
                            "too)" % (f,))
    if not fs:
        raise ValueError("wait(fs): the set of Tasks/Futures is empty")
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError("wait(): invalid return_when value: %r (use FIRST_COMPLETED, "
                         "FIRST_EXCEPTION or ALL_COMPLETED)" % (return_when,))
    if timeout is not None and type(timeout) is not int and type(timeout) is not float:
        raise TypeError("wait(timeout): a number of seconds or None, got %r" % (timeout,))
    if not _ready(fs, return_when):
        await _wait(fs, timeout, return_when)
    done = set()
    pending = set()
    for f in fs:
        if f.done():
            _retrieved(f)
            done.add(f)
        else:
            pending.add(f)
    return done, pending


def _failed(f):
    return not f.cancelled() and f.exception() is not None


def _ready(fs, return_when):
    n = 0
    for f in fs:
        if f.done():
            if return_when == FIRST_COMPLETED:
                return True
            if return_when == FIRST_EXCEPTION and _failed(f):
                return True
            n += 1
    return n == len(fs)


async def _wait(fs, timeout, return_when):
    loop = _loop()
    waiter = Future(loop)
    left = [len([f for f in fs if not f.done()])]

    def on_done(f):
        _retrieved(f)  # (before the loop's report of it: see the design note)
        left[0] -= 1
        if (left[0] <= 0 or return_when == FIRST_COMPLETED
                or (return_when == FIRST_EXCEPTION and _failed(f))):
            if not waiter.done():
                waiter.set_result(None)

    def on_timeout():
        if not waiter.done():
            waiter.set_result(None)

    handle = None if timeout is None else loop.call_later(timeout, on_timeout)
    for f in fs:
        if not f.done():
            f.add_done_callback(on_done)
    try:
        await waiter
    finally:
        if handle is not None:
            handle.cancel()
        for f in fs:
            f.remove_done_callback(on_done)


def as_completed(fs, timeout=None):
    """An iterator of awaitables, one per Task/Future/coroutine of ``fs``: the n-th awaited
    gives the result (or raises the exception) of the n-th to finish. After ``timeout``
    seconds the ones left raise ``TimeoutError``. ``async for t in as_completed(fs)`` gives
    the finished Tasks themselves (CPython 3.13's)."""
    return _AsCompleted(_futures(fs, "as_completed(fs)"), timeout)


class _AsCompleted:
    def __init__(self, fs, timeout):
        loop = _loop()
        self._todo = [ensure_future(f, loop) for f in fs]
        self._done = []  # finished, in the order they finished, not yet handed out
        self._left = len(self._todo)  # awaitables still to hand out
        self._waiter = None
        self._timed_out = False
        self._on_done = self._done_cb  # one bound method: add and remove compare it
        for f in self._todo:
            f.add_done_callback(self._on_done)
        self._handle = None
        if self._todo and timeout is not None:
            self._handle = loop.call_later(timeout, self._timeout_cb)

    def _wake(self):
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _done_cb(self, f):
        if f not in self._todo:
            return
        self._todo.remove(f)
        _retrieved(f)
        self._done.append(f)
        if not self._todo and self._handle is not None:
            self._handle.cancel()
        self._wake()

    def _timeout_cb(self):
        for f in self._todo:
            f.remove_done_callback(self._on_done)
        self._todo = []
        self._timed_out = True
        self._wake()

    async def _next_done(self):
        while not self._done:
            if self._timed_out:
                raise TimeoutError
            self._waiter = Future()
            await self._waiter
        return self._done.pop(0)

    async def _result(self):
        f = await self._next_done()
        return f.result()

    def __iter__(self):
        return self

    def __next__(self):
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        return self._result()

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._left <= 0:
            raise StopAsyncIteration
        self._left -= 1
        return await self._next_done()
