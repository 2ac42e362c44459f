"""Platforms: what a board gives the runtime.

- ``bsp``: ``BoardBase`` and the pieces boards share (``PinLed``, ``TextLed``, ``PinButton``);
  each board module in ``boards/`` subclasses ``BoardBase``.
- ``emergency_buffer()``: what a board module with hard interrupt handlers calls at import.
"""

EMERGENCY_BUF = 100  # bytes: MicroPython's docs' figure (a message and a few traceback lines)


def emergency_buffer(size=EMERGENCY_BUF):
    """Give MicroPython's emergency exception (what an exception made with the heap locked
    is: in a hard interrupt handler) a ``size``-byte buffer for its arguments and traceback
    (``micropython.alloc_emergency_exception_buf``), so that an error in a board's hard Timer
    callback is reported with its message and traceback, not as a bare exception. True if it
    was called; False on a port without it (the unix port, CPython). A board module calls it
    once, at import (each call allocates a new buffer). Not ISR-safe: it allocates."""
    import micropython

    alloc = getattr(micropython, "alloc_emergency_exception_buf", None)
    if alloc is None:
        return False
    alloc(size)
    return True
