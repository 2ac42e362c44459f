"""timer scale: the cost of arming and cancelling one timer while 100, 1,000 or 10,000 others
are pending.

shimeji: ``TimerWheel.arm_after`` + ``TimerEntry.cancel`` (the hierarchical timer wheel).
asyncio: its timer queue, the pairing heap of ``_asyncio.TaskQueue`` (``push`` with a
deadline key, then ``remove``), which is what ``sleep_ms`` and a cancelled sleeping task do to
it. Deadlines are drawn uniformly from the next 60,000 ticks (a minute of 1 ms ticks)."""

from benchlib import IS_MICROPYTHON, Rng, emit, ns_since, start

try:
    from shimeji import TimerEntry, TimerWheel
except ImportError:
    TimerWheel = None

SIZES = (100, 1000, 10000)
OPS = 2000
SPAN = 60000
REPS = 5


def shimeji_setup(pending):
    rng = Rng()
    w = TimerWheel(now=123)
    held = [TimerEntry() for _ in range(pending)]
    for e in held:
        w.arm_after(e, 1 + rng.below(SPAN))
    probes = [TimerEntry() for _ in range(OPS)]
    deltas = [1 + rng.below(SPAN) for _ in range(OPS)]

    def run():
        t0 = start()
        for i in range(OPS):
            e = probes[i]
            w.arm_after(e, deltas[i])
            e.cancel()
        return ns_since(t0) / OPS

    return run, held


def asyncio_setup(pending):
    if not IS_MICROPYTHON:
        return None, None  # CPython's asyncio keeps timers in a heapq: not the same thing
    import _asyncio

    async def nothing():
        pass

    g = globals()
    rng = Rng()
    q = _asyncio.TaskQueue()
    held = []
    for _ in range(pending):
        t = _asyncio.Task(nothing(), g)
        held.append(t)
        q.push(t, 123 + 1 + rng.below(SPAN))
    probes = [_asyncio.Task(nothing(), g) for _ in range(OPS)]
    keys = [123 + 1 + rng.below(SPAN) for _ in range(OPS)]

    def run():
        t0 = start()
        for i in range(OPS):
            t = probes[i]
            q.push(t, keys[i])
            q.remove(t)
        return ns_since(t0) / OPS

    return run, held


def main():
    if TimerWheel is None:
        emit("timer scale", "skipped: needs shimeji.time.wheel's TimerWheel", "ns", None)
        return
    runs = [(n, shimeji_setup(n)[0], asyncio_setup(n)[0]) for n in SIZES]
    best = {}
    for _ in range(REPS):  # sizes interleaved, so that load spikes hit them alike
        for n, sh, asy in runs:
            for key, fn in ((("sh", n), sh), (("as", n), asy)):
                if fn is not None:
                    v = fn()
                    best[key] = min(best.get(key, v), v)
    for n in SIZES:
        asy = best.get(("as", n))
        emit("timer scale", "ns per arm+cancel, %d pending" % n, "ns", round(best[("sh", n)]),
             None if asy is None else round(asy))
    lo, hi = SIZES[0], SIZES[-1]
    asy = None
    if ("as", lo) in best:
        asy = round(best[("as", hi)] / best[("as", lo)], 2)
    emit("timer scale", "cost at %d pending / cost at %d" % (hi, lo), "x",
         round(best[("sh", hi)] / best[("sh", lo)], 2), asy)


main()
