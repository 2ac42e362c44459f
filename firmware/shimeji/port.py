"""What differs between MicroPython and CPython, in one place.

Under CPython this module installs a stand-in ``micropython`` module (``const``, ``native``,
``viper``, ``schedule``, heap helpers that do nothing) so that every other module can write
``import micropython`` and ``@micropython.native`` exactly as on a board. Under MicroPython the
real module is used and nothing here is installed.

It also supplies the wrapping tick arithmetic of ``time.ticks_*`` for CPython. Clocks are never
bound at import time by the scheduler or the timer: they are passed in.
"""

import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

# ``ticks_*`` wrap at TICKS_PERIOD. MicroPython's period is its small-int range: 2**30 on
# 32-bit boards, 2**62 on the 64-bit unix port; under CPython shimeji uses 2**30, as a board
# does. Code that must behave like a board everywhere (the timer wheel) does its own 2**30
# arithmetic (clock.py); tests that wrap ``ticks_*`` read the period from here.
if IS_MICROPYTHON:
    import time

    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    ticks_add = time.ticks_add
    ticks_diff = time.ticks_diff
    TICKS_MAX = time.ticks_add(0, -1)
else:
    TICKS_MAX = (1 << 30) - 1
TICKS_PERIOD = TICKS_MAX + 1
TICKS_HALF = TICKS_PERIOD >> 1

if not IS_MICROPYTHON:
    import time as _time

    def _identity(f):
        return f

    def _install_micropython_standin():
        stand_in = type(sys)("micropython")
        stand_in.const = _identity
        stand_in.native = _identity
        stand_in.viper = _identity
        stand_in.heap_lock = lambda: 0
        stand_in.heap_unlock = lambda: 0
        stand_in.schedule = lambda fn, arg: fn(arg)
        stand_in.alloc_emergency_exception_buf = lambda size: None
        stand_in.__shimeji_standin__ = True
        sys.modules["micropython"] = stand_in

    if "micropython" not in sys.modules:
        _install_micropython_standin()

    def ticks_add(ticks, delta):
        """``time.ticks_add`` for CPython: add and wrap into [0, TICKS_PERIOD)."""
        return (ticks + delta) & TICKS_MAX

    def ticks_diff(end, start):
        """``time.ticks_diff`` for CPython: signed difference, correct across one wrap."""
        return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF

    def ticks_ms():
        return int(_time.monotonic_ns() // 1_000_000) & TICKS_MAX

    def ticks_us():
        return int(_time.monotonic_ns() // 1_000) & TICKS_MAX


def is_coroutine(obj):
    """True for a coroutine object (``f()``), False for anything else, including ``f``."""
    return hasattr(obj, "send") and hasattr(obj, "throw") and hasattr(obj, "close")
