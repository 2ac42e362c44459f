"""``LoopCallbacks``, a base of ``Loop``: its ``create_future``, ``call_soon``,
``call_soon_threadsafe``, ``call_later``, ``call_at`` and ``run_in_executor``, and the
exception handler's methods (``set_exception_handler``, ``get_exception_handler``,
``default_exception_handler``, ``call_exception_handler``). The handler is shared by every
loop, as in MicroPython; the loop calls it for a failed task nobody awaited (stopping.py's
``_report``) and for a callback that raised (futures.py's ``call``).

Kept light on purpose: each method imports futures.py/handles.py at its first use, so a
program that never calls one does not pay for compiling them (about 28 KB of heap on the unix
port when imported from source). Not ISR-safe.
"""

import sys

from .stopping import _print_exception


class LoopCallbacks:
    """The callback methods of ``Loop`` (handles.py does the work)."""

    _exc_handler = None  # shared by every loop, as in MicroPython

    def set_exception_handler(self, handler):
        """``handler(loop, context)`` is called for a failed task nobody awaited (None: the
        default). Else ``TypeError``, as CPython's (the reports would be lost)."""
        if handler is not None and not callable(handler):
            raise TypeError("set_exception_handler(handler): a callable object or None is "
                            "expected, got %r" % (handler,))
        LoopCallbacks._exc_handler = handler

    def get_exception_handler(self):
        """The handler set by ``set_exception_handler`` (None: the default)."""
        return LoopCallbacks._exc_handler

    def default_exception_handler(self, context):
        """Print ``context["message"]``, the future and the exception to stderr."""
        print(context["message"], file=sys.stderr)
        fut = context.get("future")
        if fut is not None:
            print("future:", fut, "coro=", getattr(fut, "coro", None), file=sys.stderr)
        if "exception" in context:
            _print_exception(context["exception"])

    def call_exception_handler(self, context):
        """Call the handler set (or the default one) with ``context``."""
        handler = LoopCallbacks._exc_handler
        if handler is None:
            self.default_exception_handler(context)
        else:
            handler(self, context)

    def create_future(self):
        """A new ``Future`` of this loop."""
        from .futures import Future

        return Future(self)

    def call_soon(self, callback, *args, context=None):
        """Call ``callback(*args)`` once the tasks runnable now have run; returns a
        ``Handle`` (``cancel()``)."""
        from .handles import call_soon

        return call_soon(self, callback, args, context)

    def call_soon_threadsafe(self, callback, *args, context=None):
        """``call_soon`` from another thread (or a ``micropython.schedule`` callback): the
        callback runs in the loop's thread once it next turns, and an idle loop wakes for it.
        It allocates (a ``Handle``): from an interrupt handler set a ``ThreadSafeFlag``."""
        from .handles import call_soon_threadsafe

        return call_soon_threadsafe(self, callback, args, context)

    def call_later(self, delay, callback, *args, context=None):
        """Call ``callback(*args)`` ``delay`` seconds from now (never earlier; 1 ms ticks);
        returns a ``TimerHandle``. ``DurationTooLong`` past what the timer holds (~6 days)."""
        from .handles import call_later

        return call_later(self, delay, callback, args, context)

    def call_at(self, when, callback, *args, context=None):
        """``call_later`` at ``when`` in ``loop.time()`` seconds."""
        from .handles import call_at

        return call_at(self, when, callback, args, context)

    def run_in_executor(self, executor, func, *args):
        """A ``Future`` of ``func(*args)`` run in a thread of its own (threads.py). Only
        ``executor`` None is supported (else ``BadArgument``)."""
        from .handles import run_in_executor

        return run_in_executor(self, executor, func, args)
