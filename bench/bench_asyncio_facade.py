"""asyncio facade: the same asyncio program on MicroPython's asyncio and on shimeji.asyncio.

- switch: 100 tasks each ``await asyncio.sleep(0)`` 200 times; ns per task switch;
- gather: ``gather(*[create_task(trivial()) for _ in range(100)])``, 20 times; ns per task.

The program is written once against an ``asyncio`` module passed in; only the module differs.
TCP echo over loopback (50 clients) is in ``bench_asyncio_echo.py`` (it needs shimeji.io).
"""

import asyncio as mp_asyncio

from benchlib import emit, fit, heap_cost, ns_since, slot_cost, start

import shimeji.asyncio as sh_asyncio

ROUNDS = 200


async def _one():
    await sh_asyncio.sleep(0)


# Per task: a grown slot of the facade's loop (and the previous loop's, until collected), an
# asyncio Task, their coroutines and the gather's lists.
TASKS = BATCH = fit(100, 2 * slot_cost() + 4 * heap_cost(_one) + 160)
BATCHES = 20
REPS = 5


def switch(aio):
    async def worker():
        for _ in range(ROUNDS):
            await aio.sleep(0)

    async def main():
        await aio.gather(*[aio.create_task(worker()) for _ in range(TASKS)])

    t0 = start()
    aio.run(main())
    return ns_since(t0) / (TASKS * ROUNDS)


def gather(aio):
    async def trivial():
        return None

    async def main():
        for _ in range(BATCHES):
            await aio.gather(*[aio.create_task(trivial()) for _ in range(BATCH)])

    t0 = start()
    aio.run(main())
    return ns_since(t0) / (BATCH * BATCHES)


def main():
    best = {}
    for _ in range(REPS):
        for name, fn, aio in (("sw_sh", switch, sh_asyncio), ("sw_as", switch, mp_asyncio),
                              ("ga_sh", gather, sh_asyncio), ("ga_as", gather, mp_asyncio)):
            if aio is sh_asyncio:
                aio.new_event_loop()
            v = fn(aio)
            best[name] = min(best.get(name, v), v)
    emit("asyncio facade", "ns per task switch, sleep(0), %d tasks" % TASKS, "ns",
         round(best["sw_sh"]), round(best["sw_as"]))
    emit("asyncio facade", "ns per task, create_task+gather, batches of %d" % BATCH, "ns",
         round(best["ga_sh"]), round(best["ga_as"]))
    emit("asyncio facade", "slots grown beyond the 16 static ones", "slots",
         sh_asyncio.get_event_loop().grown, None, "")


main()
