"""timer scale: the cost of arming and cancelling one timer while 100, 1,000 or 10,000 others
are pending.

shimeji: ``TimerWheel.arm_after`` + ``TimerEntry.cancel`` (the hierarchical timer wheel).
asyncio: its timer queue, the pairing heap of ``_asyncio.TaskQueue`` (``push`` with a
deadline key, then ``remove``), which is what ``sleep_ms`` and a cancelled sleeping task do to
it. Deadlines are drawn uniformly from the next 60,000 ticks (a minute of 1 ms ticks).

A 32-bit board's heap holds a few hundred pending timers of each kind, not 10,000: there the
largest size is what ``gc.mem_free()`` allows, and the sizes are set up one at a time (the
note says so); where everything fits, all sizes are set up first and their runs interleaved.
The 2,000 arm+cancel operations cycle over 100 probe entries (on a board: 400 over 40)."""

from benchlib import IS_MICROPYTHON, Rng, emit, fit, heap_cost, ns_since, start

try:
    from shimeji import TimerEntry, TimerWheel
except ImportError:
    TimerWheel = None

SIZES = (100, 1000, 10000)
OPS = 2000
PROBES = 100
SPAN = 60000
REPS = 5
if IS_MICROPYTHON:
    import gc

    if gc.mem_free() < 1 << 20:  # a board: room for the pending timers first
        OPS = 400
        PROBES = 40


def shimeji_setup(pending):
    rng = Rng()  # lists first, then the small objects: a board's heap fragments otherwise
    ats = [1 + rng.below(SPAN) for _ in range(pending)]
    deltas = [1 + rng.below(SPAN) for _ in range(OPS)]
    held = [None] * pending
    probes = [None] * PROBES
    w = TimerWheel(now=123)
    for i in range(pending):
        held[i] = e = TimerEntry()
        w.arm_after(e, ats[i])
    ats = None
    for i in range(PROBES):
        probes[i] = TimerEntry()

    def run():
        i = 0
        t0 = start()
        for _ in range(OPS // PROBES):
            for e in probes:
                w.arm_after(e, deltas[i])
                e.cancel()
                i += 1
        return ns_since(t0) / OPS

    return run, held


async def _nothing():
    pass


def _asyncio_queue():
    """asyncio's timer queue and task classes: the C ``_asyncio`` module's, or the pure-Python
    ones (``asyncio.task``) on ports built without it (qemu)."""
    try:
        import _asyncio

        return _asyncio.TaskQueue, _asyncio.Task
    except ImportError:
        from asyncio import task

        return task.TaskQueue, task.Task


def sizes():
    """The sizes, and whether all of them fit in the heap at once."""
    if not IS_MICROPYTHON:
        return SIZES, True
    _, Task = _asyncio_queue()
    g = globals()
    each = heap_cost(TimerEntry) + heap_cost(lambda: Task(_nothing(), g)) + 16
    spare = 16384 + PROBES * each + 2 * OPS * 8  # the probes, their deltas and keys
    total = sum(SIZES)
    if fit(total, each, spare) == total:
        return SIZES, True
    hi = fit(SIZES[-1], each, spare)
    return tuple(n for n in SIZES if n < hi) + (hi,), False


def asyncio_setup(pending):
    if not IS_MICROPYTHON:
        return None, None  # CPython's asyncio keeps timers in a heapq: not the same thing
    TaskQueue, Task = _asyncio_queue()
    g = globals()
    rng = Rng()
    ats = [123 + 1 + rng.below(SPAN) for _ in range(pending)]
    keys = [123 + 1 + rng.below(SPAN) for _ in range(OPS)]
    held = [None] * pending
    probes = [None] * PROBES
    q = TaskQueue()
    for i in range(pending):
        held[i] = t = Task(_nothing(), g)
        q.push(t, ats[i])
    ats = None
    for i in range(PROBES):
        probes[i] = Task(_nothing(), g)

    def run():
        i = 0
        t0 = start()
        for _ in range(OPS // PROBES):
            for t in probes:
                q.push(t, keys[i])
                q.remove(t)
                i += 1
        return ns_since(t0) / OPS

    return run, held


def _run_group(group, best):
    """Set up the sizes of ``group`` and keep each one's best run in ``best``. In a frame of its
    own: a stale slot of main's value stack (which MicroPython's collector scans) would keep a
    larger group's timers alive while the next is set up (qemu: MemoryError at 2.6 KB free)."""
    runs = [(n, shimeji_setup(n)[0], asyncio_setup(n)[0]) for n in group]
    for _ in range(REPS):  # sizes interleaved, so that load spikes hit them alike
        for n, sh, asy in runs:
            for key, fn in ((("sh", n), sh), (("as", n), asy)):
                if fn is not None:
                    v = fn()
                    best[key] = min(best.get(key, v), v)


def main():
    if TimerWheel is None:
        emit("timer scale", "skipped: needs shimeji.time.wheel's TimerWheel", "ns", None)
        return
    ns, together = sizes()
    groups = [ns] if together else [(n,) for n in reversed(ns)]  # the largest first
    best = {}
    for group in groups:
        _run_group(group, best)
    for n in ns:
        asy = best.get(("as", n))
        emit("timer scale", "ns per arm+cancel, %d pending" % n, "ns", round(best[("sh", n)]),
             None if asy is None else round(asy))
    lo, hi = ns[0], ns[-1]
    asy = None
    if ("as", lo) in best:
        asy = round(best[("as", hi)] / best[("as", lo)], 2)
    emit("timer scale", "cost at %d pending / cost at %d" % (hi, lo), "x",
         round(best[("sh", hi)] / best[("sh", lo)], 2), asy)


main()
