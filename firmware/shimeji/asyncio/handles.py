"""The loop's ``call_soon``, ``call_soon_threadsafe``, ``call_later``, ``call_at`` and
``create_future`` (``LoopCallbacks``, a base of ``Loop``), and the handles they return.

A callback runs in a detached task of the loop's scheduler, spawned when it is due (at once
for ``call_soon``, by a timer entry for ``call_later``/``call_at``, at the loop's next turn for
``call_soon_threadsafe``), so it runs after the tasks already runnable, as in CPython, and one
that raises is reported to the exception handler (futures.py's ``call``). Not a hot path.
"""

from ..time.wheel import TimerEntry
from .futures import Future, call, run_soon


class Handle:
    """What ``loop.call_soon`` returns: ``cancel()`` before it runs and it does not run."""

    def __init__(self, loop, callback, args):
        self._loop = loop
        self._callback = callback
        self._args = args
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
        return None


class TimerHandle(Handle):
    """What ``loop.call_later``/``call_at`` return: ``when()`` is its ``loop.time()``."""

    def __init__(self, loop, when, callback, args):
        Handle.__init__(self, loop, callback, args)
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
        notify = loop.sched.idle_notify
        if not queued and notify is not None:
            notify()

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


class LoopCallbacks:
    """The ``Loop`` methods of this module (``Loop`` derives from it). Not ISR-safe."""

    def create_future(self):
        """A new ``Future`` of this loop."""
        return Future(self)

    def call_soon(self, callback, *args, context=None):
        """Call ``callback(*args)`` once the tasks runnable now have run; returns a
        ``Handle`` (``cancel()``)."""
        _check_callable(callback, "call_soon()")
        h = Handle(self, callback, args)
        run_soon(self, _run_handle(h))
        return h

    def call_soon_threadsafe(self, callback, *args, context=None):
        """``call_soon`` from another thread (or a ``micropython.schedule`` callback): the
        callback runs in the loop's thread once it next turns, and an idle loop wakes for it.
        It allocates (a ``Handle``): from an interrupt handler set a ``ThreadSafeFlag``."""
        _check_callable(callback, "call_soon_threadsafe()")
        h = Handle(self, callback, args)
        self._threadsafe.push(h)
        return h

    def run_in_executor(self, executor, func, *args):
        """A ``Future`` of ``func(*args)`` run in a thread of its own (threads.py). Only
        ``executor`` None is supported (else ``BadArgument``)."""
        from .threads import check_executor, start_in_thread

        check_executor(executor)
        return start_in_thread(self, func, args)

    def call_later(self, delay, callback, *args, context=None):
        """Call ``callback(*args)`` ``delay`` seconds from now (never earlier; 1 ms ticks);
        returns a ``TimerHandle``. ``DurationTooLong`` past what the timer holds (~6 days)."""
        _check_number(delay, "call_later(delay)")
        return self.call_at(self.time() + delay, callback, *args)

    def call_at(self, when, callback, *args, context=None):
        """``call_later`` at ``when`` in ``loop.time()`` seconds."""
        _check_number(when, "call_at(when)")
        _check_callable(callback, "call_at()")
        h = TimerHandle(self, when, callback, args)
        ms = int((when - self.time()) * 1000 + 0.999)
        self.timer.arm_ms(h._entry, ms if ms > 0 else 0)
        return h
