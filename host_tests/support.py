"""Helpers shared by the host tests; they run under CPython (pytest) and MicroPython.

Markers:
- ``@cpython_only``: the test needs CPython (hypothesis, threads of CPython, file system...).
  Under MicroPython it is reported as skipped, never silently dropped.
- ``@micropython_only``: the test needs the MicroPython VM (``heap_lock``, ``gc.mem_alloc``).
  Under pytest it is reported as skipped.
- ``@needs_threads``: the test needs ``_thread``; skipped (with that reason) on firmware
  without it, such as the qemu port.
- ``@needs_extra_threads(n)``: the test runs n threads besides the main one; skipped where
  the port runs fewer (the RP2040 runs one, on core 1).
- ``@needs_thread_module``: the test needs the ``_thread`` module (an ``Executor`` is built on
  it) but runs on one thread: skipped only where the module is missing.
A module whose first line contains ``shimeji: cpython-only`` is not imported by the MicroPython
runner; each of its tests is reported as skipped there.
"""

# time imported once, here: on a board under `mpremote mount` each `import time` in a function
# (an extensible built-in) looks for time.py over the mount's one UART channel first, and two
# threads doing that at once (a test's nap on the main thread, a Bound made on a worker)
# waited for each other for ever: test_executor_misuse's join-timeout test on the ESP32-C3
import sys
import time

IS_MICROPYTHON = sys.implementation.name == "micropython"

try:
    import _thread  # noqa: F401 - only asked whether it exists

    HAS_THREADS = True
except ImportError:  # the qemu port and many boards
    HAS_THREADS = False
HAS_THREAD_MODULE = HAS_THREADS  # stays True where fwtest turns threads off (no core 1)
# Why threads are off. tools/fwtest.py sets both before any test module is imported where a
# port has _thread but the board cannot run a second thread (the RP2040 emulator: no core 1).
# (The stm32 port can have _thread, MICROPY_PY_THREAD; the B_L475E_IOT01A build has not.)
NO_THREADS_REASON = "needs _thread, which this MicroPython build does not have"


class _Skipped:
    def __init__(self, fn, reason):
        self.fn = fn
        self.skip_reason = reason

    def __call__(self, *args):
        return self.fn(*args)


def cpython_only(fn):
    if IS_MICROPYTHON:
        return _Skipped(fn, "needs CPython")
    return fn


def micropython_only(fn):
    if IS_MICROPYTHON:
        return fn
    import pytest

    return pytest.mark.skip(reason="needs the MicroPython VM (heap_lock, gc.mem_alloc)")(fn)


def needs_threads(fn):
    """The test needs ``_thread`` (a second thread plays the interrupt handler). Reported as
    skipped on a port without threads (the qemu firmware, many boards)."""
    if HAS_THREADS:
        return fn
    return _Skipped(fn, NO_THREADS_REASON)


# Threads a port runs at once besides the main one: the rp2 port runs one, on core 1 (a
# second start_new_thread raises OSError "core1 in use"). Elsewhere as many as tests start.
EXTRA_THREADS = 1 if sys.platform == "rp2" else 16


def needs_extra_threads(n):
    """The test runs ``n`` threads besides the main one at once (an Executor of n + 1 workers,
    or its workers and a feeding thread). Skipped, saying so, where ``_thread`` is missing or
    the port runs fewer (the RP2040: core 1 only)."""

    def mark(fn):
        if not HAS_THREADS:
            return _Skipped(fn, NO_THREADS_REASON)
        if n > EXTRA_THREADS:
            return _Skipped(fn, "needs %d threads besides the main one; this port runs %d "
                                "(the RP2040: core 1)" % (n, EXTRA_THREADS))
        return fn

    return mark


def needs_thread_module(fn):
    """The test builds an ``Executor`` (which needs ``_thread``), or stages what a loop on
    another thread leaves (the thread checks ask ``_thread.get_ident``), on this thread
    alone. Reported as skipped on a port without ``_thread``."""
    if HAS_THREAD_MODULE:
        return fn
    return _Skipped(fn, "needs the _thread module (the Executor is built on it, the thread "
                        "checks ask its get_ident), which this MicroPython build does not have")


def _shimeji_is_native():
    if not IS_MICROPYTHON:
        return False
    from shimeji.sched.owntick import tick_own  # (not fastpath: rp2 does not load it)

    return type(tick_own) is not type(lambda: 0)  # native code has a type of its own


# Where shimeji runs as bytecode (an RP2040 firmware frozen with bytecode=True: ARMv6-M, see
# docs/boards.md) a task's completion also allocates its StopIteration's traceback (the VM
# records one when a bytecode frame catches it: 16 B on 32-bit), and an await's value comes
# back in a new StopIteration (no viper to reuse one).
BYTECODE_REASON = ("shimeji is bytecode here (an ARMv6-M firmware frozen with bytecode=True, "
                   "no native code): each task completion allocates a traceback, 16 B")


def needs_native_shimeji(fn):
    """An allocation count that holds where shimeji's tick is native code (every runtime
    but a bytecode-only freeze). Reported as skipped, with why, where it is bytecode."""
    if not IS_MICROPYTHON or _shimeji_is_native():
        return fn
    return _Skipped(fn, BYTECODE_REASON)


def needs_run_lean(fn):
    """The test drives ``RunLoop.run()``'s lean loop (sched/leanloop.py's ``run_lean``);
    skipped, saying why, where there is none (rp2: ``run_lean`` is None, not loaded)."""
    from shimeji.sched import leanloop

    if leanloop.run_lean is not None:
        return fn
    return _Skipped(fn, "no lean loop on this port (rp2: run_lean is None, RunLoop.run() "
                        "ticks with each scheduler's own viper tick)")


# -- waiting for other threads (docs/testing.md, "Tests with threads") ------------------------
# Every wait on another thread is bounded: a thread that died or never got a core fails the
# test with a message naming what it waited for, instead of hanging the run.


def nap():
    """Give the CPU away for ~1 ms (both runtimes)."""
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


def wait_until(ready, what, naps=20000):
    """Nap 1 ms at a time until ``ready()`` is true, at most ``naps`` times (~20 s; longer
    on a loaded machine); then raise ``AssertionError`` naming ``what``."""
    for _ in range(naps):
        if ready():
            return
        nap()
    if not ready():
        raise AssertionError("waited %d naps of 1 ms for %s" % (naps, what))


def acquire_within(lock, what, naps=20000):
    """Take ``lock`` (a ``_thread`` lock another thread releases), napping between tries, at
    most ``naps`` times: MicroPython's ``acquire`` has no timeout (py/modthread.c)."""
    wait_until(lambda: lock.acquire(0), what, naps)


class Bound:
    """``Bound(seconds)``: a wall-clock bound for a loop that cannot nap (a task that yields
    while it waits for another thread): ``passed()`` once that much time has gone by. Only a
    bound that turns a hang into a failure, never an assertion about time."""

    def __init__(self, seconds):
        if hasattr(time, "ticks_ms"):
            self._now = time.ticks_ms
            self._diff = time.ticks_diff
        else:
            self._now = lambda: int(time.monotonic() * 1000)
            self._diff = lambda a, b: a - b
        self._start = self._now()
        self._ms = int(seconds * 1000)

    def restart(self):
        """Count from now again (allocates nothing: a bound made beforehand, restarted inside
        a critical section, where a new one would allocate)."""
        self._start = self._now()

    def passed(self):
        return self._diff(self._now(), self._start) >= self._ms


def thread_section():
    """A ``LockCriticalSection`` where ``_thread`` exists, else the runtime's default section
    (what a board without threads uses): for tests that need *a* real section."""
    from shimeji import LockCriticalSection, default_critical_section

    return LockCriticalSection() if HAS_THREADS else default_critical_section()


class raises:
    """``with raises(SomeError) as r:`` for both runtimes; ``r.value`` is the exception."""

    def __init__(self, exc_type, match=None):
        self.exc_type = exc_type
        self.match = match
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise AssertionError("expected %s to be raised" % self.exc_type.__name__)
        if not issubclass(exc_type, self.exc_type):
            return False
        self.value = exc
        if self.match is not None and self.match not in str(exc):
            raise AssertionError("%r does not mention %r" % (str(exc), self.match))
        return True


def reserve_threads(n):
    """Where shimeji parks threads (ESP32: a thread's stack comes from ESP-IDF's heap, which
    MicroPython's heap grows into and keeps), make ``n`` parked threads now, while stacks
    fit: ``start_thread`` and the executors' workers then take those. Elsewhere nothing."""
    if HAS_THREADS:
        from shimeji.executor import threads

        threads.reserve(n)


def start_thread(fn, *args):
    """``_thread.start_new_thread(fn, args)``, on a parked thread where there is one idle
    (``reserve_threads``), which parks again when ``fn`` returns."""
    import _thread

    from shimeji.executor import threads

    def body(_, parked):
        try:
            fn(*args)
        finally:
            threads.repark(parked)

    threads.start_on_thread(_thread, body, None)


def heap_scaled(n, bytes_each, least=100):
    """``n``, or fewer: as many as fit in half the free heap at ``bytes_each`` bytes each (a
    32-bit board has ~140 KB). Never below ``least``, so the test still means something."""
    if not IS_MICROPYTHON:
        return n
    import gc

    gc.collect()
    fit = gc.mem_free() // 2 // bytes_each
    return max(least, min(n, fit))


# An Executor worker's task slot on a 32-bit board, its yield ring included: 770 B measured on
# the RP2040 firmware (2026-12-05); the unix port and CPython never scale (heap_scaled).
EXECUTOR_SLOT_BYTES = 800
# What a worker costs besides its slots (its scheduler, timer wheel and rings): 6.1 KB measured
# on the ESP32-C3 firmware (2026-12-06: Executor(workers, capacity) at 8 and 16 slots).
EXECUTOR_WORKER_BYTES = 6200


def executor_capacity(capacity, workers, least=8):
    """``capacity`` slots per worker for an Executor of ``workers``, or fewer: as many as fit
    in half the free heap with each worker's own 6 KB (on an RP2040 a 2 x 128-slot executor
    does not fit at all; on a C3 4 x 25 slots, sized without the workers' share, did not)."""
    if not IS_MICROPYTHON:
        return capacity
    import gc

    gc.collect()
    room = gc.mem_free() // 2 - workers * EXECUTOR_WORKER_BYTES
    return max(least, min(capacity, room // (workers * EXECUTOR_SLOT_BYTES)))


def _call(fn, args):
    # fn(*args) would itself allocate (the argument array): dispatch on the count instead.
    n = len(args)
    if n == 0:
        return fn()
    if n == 1:
        return fn(args[0])
    if n == 2:
        return fn(args[0], args[1])
    if n == 3:
        return fn(args[0], args[1], args[2])
    return fn(args[0], args[1], args[2], args[3])


def heap_locked(fn, *args):
    """Run ``fn(*args)`` with the MicroPython heap locked: any allocation raises MemoryError.

    Returns fn's result. Only meaningful on MicroPython (use with @micropython_only)."""
    import micropython

    micropython.heap_lock()
    try:
        return _call(fn, args)
    finally:
        micropython.heap_unlock()


def alloc_delta(fn, *args):
    """Bytes the heap grew by while ``fn(*args)`` ran, with the collector off.

    Catches what heap_lock misses (an exception raised per call falls back to the emergency
    exception object under the lock). The cost of measuring itself is subtracted."""
    import gc

    def nothing(a=None, b=None, c=None, d=None):
        return None

    gc.collect()
    gc.disable()
    try:
        base0 = gc.mem_alloc()
        _call(nothing, args)
        base1 = gc.mem_alloc()
        a0 = gc.mem_alloc()
        _call(fn, args)
        a1 = gc.mem_alloc()
    finally:
        gc.enable()
    return (a1 - a0) - (base1 - base0)


class FakeClock:
    """A clock for tests: ``now()`` returns what you set; ``advance(n)`` wraps like ticks.

    ``period`` is a power of two (default 2**30, a board's ticks period). The clock keeps
    ``period - 1`` as a mask: 2**30 itself is a heap int on a 32-bit board, and ``% 2**30``
    would allocate on every ``advance()`` there; ``& (2**30 - 1)`` stays in the small ints."""

    def __init__(self, start=0, period=1 << 30):
        if period & (period - 1):
            raise ValueError("FakeClock period must be a power of two, got %r" % (period,))
        self.mask = period - 1
        self.t = start & self.mask

    def now(self):
        return self.t

    def advance(self, n):
        self.t = (self.t + n) & self.mask
        return self.t
