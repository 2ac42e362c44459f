# Helpers of the transient-frame tests (test_sched_transient_alloc*.py): what a steady round
# of a hot path allocates, freed or not, by micropython.mem_total(). Kept apart from the
# tests so each of those modules loads only its own workloads: on the RP2040's .mpy deploy
# path the heap holds shimeji's code too, and one module importing every workload (the
# I/O, executor and trace modules among them) ran out of it at import (session 14).
import gc

from support import IS_MICROPYTHON, _Skipped, micropython_only


def needs_mem_total(fn):
    """MicroPython only (reported skipped by pytest), and skipped with the reason on a build
    without ``micropython.mem_total`` (MICROPY_MEM_STATS off)."""
    if not IS_MICROPYTHON:
        return micropython_only(fn)
    import micropython

    if hasattr(micropython, "mem_total"):
        return fn
    return _Skipped(fn, "needs micropython.mem_total (a build with MICROPY_MEM_STATS)")


def let_go(*scheds):
    """Close the schedulers a test made and drop the trace ring's last Trace (kept for
    ``tools/trace.py pull``, and its scheduler with it): on the STM32L475 the heap the tests
    after it need was otherwise held (~17 KB by the end of the module)."""
    import sys

    for s in scheds:
        s.close()
    ring = sys.modules.get("shimeji.trace.ring")  # not loaded: nothing was traced
    if ring is not None:
        ring.last = None
    gc.collect()


def _noop(a=None, b=None, c=None, d=None):
    pass


def spent(fn, *args):
    """Bytes allocated while ``fn(*args)`` ran, freed or not (the call itself taken off)."""
    import micropython

    gc.collect()
    before = micropython.mem_total()
    _noop(*args)
    call = micropython.mem_total() - before
    before = micropython.mem_total()
    fn(*args)
    return micropython.mem_total() - before - call


def steady(fn, *args):
    """``spent`` of a round after a first one (warm up: every path taken once)."""
    fn(*args)
    return spent(fn, *args)
