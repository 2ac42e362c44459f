"""The loop's ``call_soon``, ``call_soon_threadsafe``, ``call_later``, ``call_at`` and
``run_in_executor`` (``Loop``'s methods, in loopcalls.py, call these), and the handles they
return.

A callback runs in a detached task of the loop's scheduler, spawned when it is due (at once
for ``call_soon``, by a timer entry for ``call_later``/``call_at``, at the loop's next turn for
``call_soon_threadsafe``), so it runs after the tasks already runnable, as in CPython, and one
that raises is reported to the exception handler (futures.py's ``call``). Not a hot path.
"""

from ..time.wheel import TimerEntry
from .contexts import handle_context
from .futures import call, run_soon


class Handle:
    """What ``loop.call_soon`` returns: ``cancel()`` before it runs and it does not run."""

    def __init__(self, loop, callback, args, context=None):
        self._loop = loop
        self._callback = callback
        self._args = args
        self._context = handle_context(context)  # (CPython: it runs there; None on MicroPython)
        self._cancelled = False
        self._next = None  # call_soon_threadsafe's queue (made here: linking it allocates nothing)

    def __repr__(self):
        return "<%s %r%s>" % (type(self).__name__, self._callback,
                              " cancelled" if self._cancelled else "")

    def cancel(self):
        self._cancelled = True

    def cancelled(self):
        return self._cancelled

    def get_context(self):
        """The ``contextvars.Context`` the callback runs in (CPython); None on MicroPython."""
        return self._context


class TimerHandle(Handle):
    """What ``loop.call_later``/``call_at`` return: ``when()`` is its ``loop.time()``."""

    def __init__(self, loop, when, callback, args, context=None):
        Handle.__init__(self, loop, callback, args, context)
        self._when = when
        self._entry = TimerEntry(None, self._fire)

    def when(self):
        return self._when

    def cancel(self):
        self._cancelled = True
        self._entry.cancel()

    def _fire(self, entry):
        if not self._cancelled:
            run_soon(self._loop, _run_handle(self))


async def _run_handle(handle):
    if not handle._cancelled:
        call(handle._loop, handle._callback, handle._args, handle)


def _check_callable(fn, what):
    if not callable(fn):
        raise TypeError("%s: a callable object was expected as the callback, got %r"
                        % (what, fn))


def _check_number(x, what):
    if type(x) is not int and type(x) is not float:
        raise TypeError("%s must be a number of seconds (int or float), got %r" % (what, x))


class ThreadsafeCalls:
    """The handles ``call_soon_threadsafe`` queued from other threads. It stands in the loop's
    list of ThreadSafeFlags to deliver (``Loop.queue_flag``): the loop's thread calls
    ``wake()`` at its next turn, which schedules them as ``call_soon`` does."""

    def __init__(self, loop):
        self.loop = loop
        self.head = None
        self.tail = None
        self.flag_next = None  # (the fields Loop.queue_flag and fire_flags use)
        self.flag_queued = False

    def push(self, h):
        # Another thread: links under the loop's critical section (stores only), then ends
        # an idle wait of the loop.
        loop = self.loop
        cs = loop._cs
        state = cs.enter()
        tail = self.tail
        if tail is None:
            self.head = h
        else:
            tail._next = h
        self.tail = h
        queued = self.flag_queued
        if not queued:
            loop.queue_flag(self)
            self.flag_queued = True
        cs.exit(state)
        poller = loop.sched.poller
        if not queued and poller is not None:
            poller.ring()  # (as ThreadSafeFlag.set: the doze does not read the list)

    def wake(self):
        loop = self.loop
        cs = loop._cs
        state = cs.enter()
        h = self.head
        self.head = None
        self.tail = None
        cs.exit(state)
        while h is not None:
            nxt = h._next
            h._next = None
            run_soon(loop, _run_handle(h))
            h = nxt


# -- the Loop methods (loopcalls.py's LoopCallbacks calls these at their first use) ----------


def call_soon(loop, callback, args, context=None):
    _check_callable(callback, "call_soon()")
    h = Handle(loop, callback, args, context)
    run_soon(loop, _run_handle(h))
    return h


def call_soon_threadsafe(loop, callback, args, context=None):
    _check_callable(callback, "call_soon_threadsafe()")
    h = Handle(loop, callback, args, context)
    calls = loop._threadsafe
    if calls is None:  # the first call (from any thread): made outside the section, kept once
        made = ThreadsafeCalls(loop)
        cs = loop._cs
        state = cs.enter()
        if loop._threadsafe is None:
            loop._threadsafe = made
        cs.exit(state)
        calls = loop._threadsafe
    calls.push(h)
    return h


def run_in_executor(loop, executor, func, args):
    from .threads import check_executor, start_in_thread

    check_executor(executor)
    return start_in_thread(loop, func, args)


def call_at(loop, when, callback, args, context=None):
    _check_number(when, "call_at(when)")
    _check_callable(callback, "call_at()")
    h = TimerHandle(loop, when, callback, args, context)
    ms = int((when - loop.time()) * 1000 + 0.999)
    loop.timer.arm_ms(h._entry, ms if ms > 0 else 0)
    return h


def call_later(loop, delay, callback, args, context=None):
    _check_number(delay, "call_later(delay)")
    return call_at(loop, loop.time() + delay, callback, args, context)
