"""Where an ``Executor``'s worker threads come from: a new ``_thread`` each, or, on ESP32,
threads made before the executor's task slots and kept, parked, for the next executor.

On ESP32 a thread's stack (5 KB by default, FreeRTOS's ``xTaskCreate``) comes from ESP-IDF's
heap, and MicroPython's heap grows into that same heap when a collection does not free
enough: it takes a block at least as large as itself, or the largest block there is. An
executor's slots (about 600 B each on an ESP32-C3) can make it grow, and then no stack fits
(seen: ``OSError: can't create thread`` after two ``Executor(workers=2, capacity=64)``, the
largest ESP-IDF block 13.8 KB before and 0.9 KB after; docs/executor.md, "Thread stacks on
ESP32"). So there ``Executor()`` calls ``reserve(workers - 1)`` before it makes its slots:
the threads start at once and wait on a lock; ``start()`` hands each a worker
(``start_on_thread``), and a thread whose worker returned parks again, for the next
executor. Parked threads cost their stacks for as long as the program runs (a soft reset
ends them); they never run Python code between executors.

Elsewhere (the unix port, CPython, the RP2040, whose core-1 stack comes from the GC heap)
``PARK`` is false: ``reserve`` does nothing and each worker gets a new thread that ends with
it. The tests turn ``PARK`` on to run the ESP32 path on the host.
"""

import sys

PARK = sys.platform == "esp32"
# The ESP32-C3 (where it was traced): a parked thread fills the dead part of its stack itself
# (``_wipe``); elsewhere, or where its task's control block does not look as expected, it
# scrubs with Python frames (``_scrub``).
WIPE = PARK and "ESP32C3" in getattr(sys.implementation, "_machine", "")
if WIPE:
    import _thread

    import machine  # an extensible built-in: imported once, here, never in a function
    import micropython
else:
    _thread = machine = micropython = None  # (tests put stand-ins here)
# Xtensa chips (the classic ESP32: sys.implementation._mpy's arch 9, xtensa, or 10,
# xtensawin): the windowed ABI's C frames are large. Measured on the classic ESP32 in qemu
# (session 15): a task on a worker thread starts 2,288 B down the port's 5 KB stack, whose
# Python limit is 4 KB, with room for 6 more plain Python calls ("maximum recursion depth
# exceeded" in a wake from a task, and in a spawn from a feeding thread); worker 0, on the main
# task's 16 KB, has room for 40. So their threads get XTENSA_STACK (as RP2040's core 1 gets 8
# KB). The C3 (RISC-V) keeps the port's 5 KB.
XTENSA_STACK = 8192
XTENSA = PARK and (getattr(sys.implementation, "_mpy", 0) >> 10) & 15 in (9, 10)

_lock = None  # guards _idle and made (a _thread lock, made with the first parked thread)
_idle = []  # parked threads, each waiting on its own gate for a worker
made = 0  # parked threads started so far (the tests read it)


class _Parked:
    __slots__ = ("gate", "job", "given", "settled")

    def __init__(self, _thread):
        self.gate = _thread.allocate_lock()
        self.gate.acquire()  # held: the thread waits on it until a job is given
        self.job = None
        self.given = 0  # jobs handed to this thread
        self.settled = 0  # jobs it has returned from and wiped (or scrubbed) after


def _park_loop(p):
    while True:
        p.gate.acquire()  # blocks (without the GIL) until start_on_thread gives a job
        fn, arg = p.job
        p.job = None
        fn(arg, p)  # Executor._thread_main: reports its errors, calls repark() before it ends
        fn = arg = None  # (held here while parked, they would keep the last executor alive)
        if not (WIPE and _wipe()):
            _scrub()
        p.settled += 1  # nothing of the job left here: Executor.join() waits for this


def _deeper(n):
    return 0 if n >= _SCRUB_FRAMES else _deeper(n + 1) + 1


_SCRUB_FRAMES = 64  # at least a 5 KB stack's worth of frames (a 4 KB one ends in RuntimeError)


def _scrub():
    # The ESP32 port's collector scans a thread's whole stack, the part below the running
    # frame too: pointers left there by the last worker's run kept its executor (150 KB on a
    # C3) alive while the thread was parked. Frames of _deeper overwrite them with small ints.
    # Bounded: on the unix port a thread at its recursion limit has no room left for the
    # collector's signal handler (a segfault, seen).
    try:
        _deeper(0)
    except RuntimeError:  # maximum recursion depth (CPython: RecursionError, a subclass)
        pass


# ESP-IDF v5.5's FreeRTOS task control block on the C3 (read with gdb on the firmware):
# pxStack, the stack's lowest address, at 0x30; pvThreadLocalStoragePointers[1], MicroPython's
# thread state (its first word the thread's stack top), at 0x54.
_TCB_STACK = 0x30
_TCB_STATE = 0x54
_WIPE_MARGIN = 512  # bytes left alone below the deepest frame stack_use() saw
_FILL = 0xA5A5A5A5  # FreeRTOS's stack fill byte, which its overflow canary checks: no address


def _wipe():
    """Fill this thread's stack below its running frames with FreeRTOS's fill word: what the
    last worker's run left there (C frames, which ``_scrub``'s frames of another shape skip:
    a timer wheel, a task slot, a clock, 1.6-2.1 KB below the top, found with gdb) no longer
    points into its executor. The bounds come from the task's control block (its handle is
    ``_thread.get_ident()`` on ESP32); False, writing nothing, where they do not look right.
    Only on the thread itself (the part below its frames is dead only while it runs). Not
    ISR-safe; allocates nothing."""
    mem = machine.mem32
    tcb = _thread.get_ident()
    stack = mem[tcb + _TCB_STACK]
    state = mem[tcb + _TCB_STATE]
    if not stack < state < stack + 65536:
        return False
    top = mem[state]
    if not state < top <= state + 256:
        return False
    a = stack + 64  # FreeRTOS's canary and a margin stay as they are
    end = top - micropython.stack_use() - _WIPE_MARGIN
    if not a < end < top:
        return False
    while a < end:
        mem[a] = _FILL
        a += 4
    return True


def _new_thread(_thread, fn, args):
    # _thread.start_new_thread, with XTENSA_STACK where XTENSA; the size set before is put
    # back (a program's own threads keep theirs)
    if not XTENSA:
        _thread.start_new_thread(fn, args)
        return
    old = _thread.stack_size(XTENSA_STACK)
    try:
        _thread.start_new_thread(fn, args)
    finally:
        _thread.stack_size(old)


def repark(p):
    """Put parked thread ``p`` back among the idle ones: called on it by the job it ran,
    before the job tells its executor it ended, so that a ``start()`` right after a
    ``join()`` finds it. ``p`` None (a thread of its own): nothing. Any thread; not from an
    interrupt handler (it takes a ``_thread`` lock)."""
    if p is None:
        return
    with _lock:
        _idle.append(p)


def reserve(n):
    """Make sure ``n`` parked threads wait idle (where ``PARK``; elsewhere nothing): start as
    many as are missing. Raises what ``_thread.start_new_thread`` raised (``OSError`` on
    ESP32 when no stack fits). Not ISR-safe; allocates."""
    global _lock, made
    if not PARK:
        return
    import _thread

    if _lock is None:
        _lock = _thread.allocate_lock()
    with _lock:
        missing = n - len(_idle)
    for _ in range(missing):
        p = _Parked(_thread)
        _new_thread(_thread, _park_loop, (p,))
        with _lock:
            made += 1
            _idle.append(p)


def start_on_thread(_thread, fn, arg):
    """Run ``fn(arg, parked)`` on a parked thread if one is idle, else on a new thread
    (``fn(arg, None)``). Returns ``(parked, ticket)`` for ``settled``, or None (a new thread).
    Raises what ``_thread.start_new_thread`` raised when a new thread cannot start. Not
    ISR-safe."""
    p = None
    if PARK and _lock is not None:
        with _lock:
            if _idle:
                p = _idle.pop()
    if p is None:
        _new_thread(_thread, fn, (arg, None))
        return None
    p.given += 1
    ticket = (p, p.given)
    p.job = (fn, arg)
    p.gate.release()
    return ticket


def settled(ticket):
    """True once the parked thread of ``ticket`` (``start_on_thread``'s) has returned from
    that job and wiped its stack: nothing there points into the job's objects any more. A
    thread repark()s, and its executor sees it end, before it gets there: an executor dropped
    at once was kept by the thread's stack until the next collection after (seen on the
    ESP32-C3 with tools/heapwhy.py: 36 KB, a Worker 1.7 KB below the stack's top). Any
    thread; allocates nothing."""
    return ticket[0].settled - ticket[1] >= 0


def idle_count():
    """Parked threads waiting for a worker now. Any thread."""
    if _lock is None:
        return 0
    with _lock:
        return len(_idle)
