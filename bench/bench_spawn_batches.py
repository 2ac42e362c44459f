"""spawn_batches: spawn + ``join_all`` against ``create_task`` + ``gather`` on a board at
batches of 20 and 52, with the collector's cost and without it; ns per task.

``bench_spawn`` runs both runtimes in one heap, each window from a collected heap and short
enough to meet few collections. On a board the collector is part of the cost, and not the
same for both: what a runtime keeps in the heap (shimeji's modules once the scheduler is
used, ~24 KB on the STM32, and its slots, ~560 B each on 32-bit; asyncio's ~3 KB there, the
C ``_asyncio``) leaves less free heap, so collections come more often for the same bytes,
and each one marks what is kept. So here each runtime runs alone: asyncio first, before
shimeji is imported, then asyncio's modules are dropped and shimeji's loaded. Two figures
per batch size, both printed: "collections at their rate", a window in which the runtime
allocates about 8 times its free heap (several collections, at the rate a long run meets
them), and "collector off", ``gc.disable()`` in windows of as many batches as fit both
(the same count on both sides): the work alone. shimeji's scheduler is made once per batch
size, before its windows. Runs on MicroPython with a heap under
512 KB (a board); elsewhere it says so: collections are rare on a desktop's heap.
"""

import gc
import sys

from benchlib import IS_MICROPYTHON, emit, ns_since, start

BATCHES = (20, 52)
EACH_SHIMEJI = 100  # heap bytes per task at most: the coroutine, the handle, join_all's share
EACH_ASYNCIO = 150  # the coroutine, the Task, gather's share (~130-140 B on the STM32)
OFF_COUNTS = (2, 3, 5, 10, 20)  # batches per collector-off window, the largest fitting both


async def trivial():
    return None


def _timed(run, collect):
    """ns that ``run()`` took, from a collected heap, the collector off unless ``collect``;
    and the free heap at its start."""
    gc.collect()
    free = gc.mem_free()
    t0 = start()
    if not collect:
        gc.disable()
    try:
        run()
    finally:
        gc.enable()
    return ns_since(t0), free


def _best(make_run, batch, batches, collect, reps=2):
    """(least ns per task over ``reps`` windows, free heap at the start of the last)."""
    best = None
    for _ in range(reps):
        ns, free = _timed(make_run(batch, batches), collect)
        best = ns if best is None or ns < best else best
    return best // (batch * batches), free


def _fits(free, each, batch):
    return [k for k in OFF_COUNTS if k * batch * each <= free * 2 // 3]


def _measure(make_run, free_for, each):
    """For each batch size: ("on", ns, free, batches) and {k: ns} with the collector off."""
    out = {}
    for batch in BATCHES:
        free = free_for(batch)
        fits = _fits(free, each, batch)
        if not fits:
            out[batch] = (None, free, {})
            continue
        n = max(8 * free // (each * batch), 2)
        try:
            on = _best(make_run, batch, n, True) + (n,)
            off = {k: _best(make_run, batch, k, False, 3)[0] for k in fits}
        except MemoryError:  # (a scheduler's slots in a heap cut up by the windows before)
            gc.collect()
            out[batch] = (None, free, {})
            continue
        out[batch] = (on, free, off)
    return out


def _asyncio_run(batch, batches):
    import asyncio

    async def main():
        for _ in range(batches):
            await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(batch)])

    return lambda: asyncio.run(main())


_SCHEDULER = []  # the scheduler of the batch size measured now, made once for all its windows


def _scheduler(batch):
    """A scheduler of ``batch + 1`` slots, made before the windows (asyncio's loop is made in
    each of its) and kept for every window of that batch size, as a program keeps its one:
    making one per window on the STM32 cut the heap up (no 296 B block for a slot's table at
    batch 52 with 26 KB free)."""
    from shimeji import StaticScheduler

    if _SCHEDULER and _SCHEDULER[0].capacity == batch + 1:
        return _SCHEDULER[0]
    _SCHEDULER.clear()  # (the last batch size's: garbage before the new one is made)
    gc.collect()
    _SCHEDULER.append(StaticScheduler(batch + 1))
    return _SCHEDULER[0]


def _shimeji_run(batch, batches):
    from shimeji import join_all

    s = _scheduler(batch)
    handles = [None] * batch

    async def driver():
        for _ in range(batches):
            for i in range(batch):
                handles[i] = s.spawn(trivial())
            await join_all(*handles)

    return lambda: s.run_until_complete(driver())


def _free():
    gc.collect()
    return gc.mem_free()


def _free_beside_scheduler(batch):
    _scheduler(batch)
    return _free()


def _drop_asyncio():
    for name in list(sys.modules):
        if name == "asyncio" or name.startswith("asyncio.") or name == "_asyncio":
            del sys.modules[name]


def _load_asyncio():
    """asyncio loaded before its windows (its share of the heap in them), by a function: a
    local of ``main`` would keep its modules through shimeji's windows after the drop."""
    import asyncio  # noqa: F401


def main():
    _load_asyncio()
    theirs = _measure(_asyncio_run, lambda batch: _free(), EACH_ASYNCIO)
    _drop_asyncio()
    ours = _measure(_shimeji_run, _free_beside_scheduler, EACH_SHIMEJI)
    for batch in BATCHES:
        on_sh, free_sh, off_sh = ours[batch]
        on_as, free_as, off_as = theirs[batch]
        if on_sh is None or on_as is None:
            emit("spawn_batches", "batch %d: does not fit this heap" % batch, "ns", None, None,
                 note="%d B free beside a %d-slot scheduler (or a MemoryError in its windows)"
                 % (free_sh, batch + 1))
            continue
        emit("spawn_batches", "join_all vs gather, batch %d, collections at their rate"
             % batch, "ns", on_sh[0], on_as[0], note="each alone: %d and %d batches, %d B and "
             "%d B free (shimeji, asyncio)" % (on_sh[2], on_as[2], on_sh[1], on_as[1]))
        k = max(set(off_sh) & set(off_as))
        emit("spawn_batches", "join_all vs gather, batch %d, collector off" % batch, "ns",
             off_sh[k], off_as[k], note="%d batches, gc.disable() in each window" % k)


if IS_MICROPYTHON and gc.mem_free() + gc.mem_alloc() < 512 * 1024:
    main()
else:
    emit("spawn_batches", "not run: a heap of 512 KB or more (collections are rare there)",
         "ns", None, None)
