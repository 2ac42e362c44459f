"""spawn: spawn and complete 2,000 trivial tasks in batches of 100; ns per task.

Both runtimes: a driver spawns 100 tasks, waits for all of them to finish, 20 times. asyncio
uses ``create_task`` + ``gather``; shimeji uses ``spawn`` + ``tick`` until the batch is done
(spawn_detached: no handle, nobody joins them, as with fire-and-forget tasks). The coroutine
objects are made in the timed region on both sides. Joined: a task spawns a batch and awaits
each handle (asyncio: ``create_task`` and await each task), compared with both asyncio ways;
at once: a task spawns one task and awaits it at once, TASKS times (asyncio: ``create_task``
then ``await`` it), the join parking every time.
The spawn+join goal (3x ``create_task`` + ``gather``) compares like with like: a task spawns a
batch and joins it with ``join_all`` (shimeji's counterpart of ``gather``) against asyncio's
``create_task`` + ``gather``. The batch joined by a loop of awaits against ``gather`` stays as
an information row.
The floor: making each coroutine and running it to its end by hand, with no runtime.

Pairing: every figure is the best of ``REPS`` runs, all ways interleaved in each repetition
and their order reversed every other one, as bench_switch's (a run is a few ms: a preemption
or a slow moment of the shared host stretches a whole run, and the best of several is the
least disturbed; docs/benchmarks.md, "Lateness tails, session 21")."""

import asyncio

from benchlib import big_heap, emit, fit, heap_cost, ns_since, slot_cost, start

from shimeji import StaticScheduler, join_all

BATCHES = 20
REPS = 9 if big_heap() else 5  # (a board: its time)


async def trivial():
    return None


# Per task of a batch: a slot and its coroutine, or asyncio's Task, its coroutine and its
# place in gather's list. On a small heap (an STM32L475: ~87 KB after boot, a slot ~730 B) the
# batch is scaled to the heap (``benchlib.fit``; the rows' note says so), 20 batches still.
# A slot counts twice: its attribute table is one block of ~470 B (32-bit), which a
# fragmented heap cannot always place however much it has free in all (as bench_memory).
BATCH = fit(100, 2 * slot_cost() + heap_cost(trivial) + 64)
TASKS = BATCH * BATCHES


def run_shimeji():
    s = StaticScheduler(BATCH)
    t0 = start()
    for _ in range(BATCHES):
        for _ in range(BATCH):
            s.spawn_detached(trivial())
        while s.tick().polled:
            pass
    return ns_since(t0) / TASKS


def run_shimeji_joined():
    s = StaticScheduler(BATCH + 1)
    handles = [None] * BATCH

    async def driver():
        for _ in range(BATCHES):
            for i in range(BATCH):
                handles[i] = s.spawn(trivial())
            for i in range(BATCH):
                await handles[i]

    t0 = start()
    s.run_until_complete(driver())
    return ns_since(t0) / TASKS


def run_shimeji_join_all():
    # The batch joined by join_all, shimeji's counterpart of asyncio's gather (the goal row).
    s = StaticScheduler(BATCH + 1)
    handles = [None] * BATCH

    async def driver():
        for _ in range(BATCHES):
            for i in range(BATCH):
                handles[i] = s.spawn(trivial())
            await join_all(*handles)

    t0 = start()
    s.run_until_complete(driver())
    return ns_since(t0) / TASKS


def run_shimeji_at_once():
    # What users write most: spawn, then await the handle at once (the join parks every time).
    s = StaticScheduler(2)

    async def driver():
        for _ in range(TASKS):
            await s.spawn(trivial())

    t0 = start()
    s.run_until_complete(driver())
    return ns_since(t0) / TASKS


async def as_main_at_once():
    for _ in range(TASKS):
        await asyncio.create_task(trivial())


def run_asyncio_at_once():
    t0 = start()
    asyncio.run(as_main_at_once())
    return ns_since(t0) / TASKS


async def as_main():
    for _ in range(BATCHES):
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(BATCH)])


def run_asyncio():
    t0 = start()
    asyncio.run(as_main())
    return ns_since(t0) / TASKS


async def as_main_joined():
    tasks = [None] * BATCH
    for _ in range(BATCHES):
        for i in range(BATCH):
            tasks[i] = asyncio.create_task(trivial())
        for i in range(BATCH):
            await tasks[i]


def run_asyncio_joined():
    t0 = start()
    asyncio.run(as_main_joined())
    return ns_since(t0) / TASKS


def run_floor():
    """The floor: create a coroutine and run it to its end by hand, in batches of 100 like the
    others (what any runtime must do at least per task)."""
    coros = [None] * BATCH
    t0 = start()
    for _ in range(BATCHES):
        for i in range(BATCH):
            coros[i] = trivial()
        for i in range(BATCH):
            try:
                coros[i].send(None)
            except StopIteration:
                pass
    return ns_since(t0) / TASKS


def main():
    best = {}
    ways = (("sh", run_shimeji), ("as", run_asyncio),
            ("shj", run_shimeji_joined), ("asj", run_asyncio_joined),
            ("sha", run_shimeji_join_all),
            ("sh1", run_shimeji_at_once), ("as1", run_asyncio_at_once),
            ("floor", run_floor))
    back = list(ways)
    back.reverse()  # (MicroPython slices only with step 1)
    for rep in range(REPS):
        for name, fn in ways if rep % 2 == 0 else back:
            v = fn()
            best[name] = min(best.get(name, v), v)
    emit("spawn", "ns per task, spawn+run+complete (detached / gather)", "ns",
         round(best["sh"]), round(best["as"]))
    emit("spawn", "ns per task, spawn+run+join from a task", "ns",
         round(best["shj"]), round(best["asj"]))
    emit("spawn", "ns per task, spawn then await at once (create_task, await)", "ns",
         round(best["sh1"]), round(best["as1"]))
    # The goal row: like with like, join_all against gather.
    emit("spawn", "ns per task, spawn+join_all vs create_task+gather", "ns",
         round(best["sha"]), round(best["as"]))
    # Information: the batch joined by a loop of awaits, against gather.
    emit("spawn", "ns per task, spawn+join (loop of awaits) vs create_task+gather", "ns",
         round(best["shj"]), round(best["as"]))
    emit("spawn", "ns per task, spawn+join vs the floor", "ns", round(best["shj"]),
         round(best["floor"]), "floor")
    emit("spawn", "ns per coroutine created and exhausted (the floor)", "ns",
         round(best["floor"]), None)


main()
