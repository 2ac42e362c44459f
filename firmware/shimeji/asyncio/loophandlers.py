"""``LoopHandlers``, a base of ``Loop``: the exception-handler methods (``set_exception_handler``,
``get_exception_handler``, ``default_exception_handler``, ``call_exception_handler``).

The handler is shared by every loop, as in MicroPython (``new_event_loop`` keeps it). The
loop calls it for a failed task nobody awaited (stopping.py's ``_report``) and for a callback
that raised (futures.py's ``call``). Not ISR-safe.
"""

import sys

from .stopping import _print_exception


class LoopHandlers:
    """The exception-handler methods of ``Loop``."""

    _exc_handler = None  # shared by every loop, as in MicroPython

    def set_exception_handler(self, handler):
        """``handler(loop, context)`` is called for a failed task nobody awaited (None: the
        default). Else ``TypeError``, as CPython's (the reports would be lost)."""
        if handler is not None and not callable(handler):
            raise TypeError("set_exception_handler(handler): a callable object or None is "
                            "expected, got %r" % (handler,))
        LoopHandlers._exc_handler = handler

    def get_exception_handler(self):
        """The handler set by ``set_exception_handler`` (None: the default)."""
        return LoopHandlers._exc_handler

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
        handler = LoopHandlers._exc_handler
        if handler is None:
            self.default_exception_handler(context)
        else:
            handler(self, context)
