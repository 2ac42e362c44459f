"""switch: 100 tasks each yielding 200 times; ns per task switch, against asyncio and the
floor (a bare loop resuming 100 generators with ``send(None)``).

Both runtimes run the same program: spawn 100 tasks, run until all have finished. The figure
is the whole run divided by the number of switches (spawning and completing 100 tasks is
<1% of it). On a small heap (an STM32L475 has ~87 KB after boot, a task slot ~730 B) the task
count is scaled to the heap (``benchlib.fit``), and the rows' note says so."""

import asyncio

from benchlib import best, emit, fit, heap_cost, ns_since, sleep0_asyncio, slot_cost, start

from shimeji import StaticScheduler, yield_now

YIELDS = 200
REPS = 7


async def sh_task():
    for _ in range(YIELDS):
        await yield_now()


# Per task: a slot and a coroutine (shimeji), a Task and a coroutine (asyncio, made after the
# scheduler is dropped), a generator (the floor): the slot and its coroutine are the most.
# A slot counts twice: its attribute table is one block of ~470 B (32-bit), which a
# fragmented heap cannot always place however much it has free in all (as bench_memory).
TASKS = fit(100, 2 * slot_cost() + heap_cost(sh_task) + 64)
SWITCHES = TASKS * YIELDS


def run_shimeji():
    s = StaticScheduler(TASKS)
    t0 = start()
    for _ in range(TASKS):
        s.spawn_detached(sh_task())
    while s.tick().polled:
        pass
    return ns_since(t0) / SWITCHES


_sleep = sleep0_asyncio(asyncio)


async def as_task():
    for _ in range(YIELDS):
        await _sleep(0)


async def as_main():
    ts = [asyncio.create_task(as_task()) for _ in range(TASKS)]
    await asyncio.gather(*ts)


def run_asyncio():
    t0 = start()
    asyncio.run(as_main())
    return ns_since(t0) / SWITCHES


def gen():
    for _ in range(YIELDS):
        yield


def run_floor():
    gens = [gen() for _ in range(TASKS)]
    t0 = start()
    for _ in range(YIELDS):
        for g in gens:
            g.send(None)
    return ns_since(t0) / SWITCHES


def main():
    sh = asy = fl = None
    for _ in range(REPS):  # interleaved, so that load spikes hit all three alike
        v = best(run_shimeji, 1)
        sh = v if sh is None else min(sh, v)
        v = best(run_asyncio, 1)
        asy = v if asy is None else min(asy, v)
        v = best(run_floor, 1)
        fl = v if fl is None else min(fl, v)
    emit("switch", "ns per task switch (%d tasks x %d yields)" % (TASKS, YIELDS), "ns", round(sh),
         round(asy))
    emit("switch", "ns per task switch vs floor", "ns", round(sh), round(fl), "floor")


main()
