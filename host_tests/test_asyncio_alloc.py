# The facade keeps shimeji's allocation-free hot paths: a loop of tasks that sleep_ms and
# yield (sleep(0)) allocates nothing per round, as asyncio_heaplock.py demands.
import gc

import shimeji.asyncio as asyncio
from support import micropython_only


async def sleeper(n, ms):
    for _ in range(n):
        await asyncio.sleep_ms(ms)


async def yielder(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def spin():
    while True:
        await asyncio.sleep(0)


@micropython_only
def test_sleep_ms_and_switching_under_heap_lock():
    import micropython

    asyncio.new_event_loop()
    log = []

    async def main():
        t1 = asyncio.create_task(sleeper(4, 3))
        t2 = asyncio.create_task(yielder(200))
        await asyncio.sleep(0)
        micropython.heap_lock()
        try:
            rounds = 0  # until both finish, however loaded the machine (no wall-clock bound)
            while not (t1.done() and t2.done()) and rounds < 100000:
                await asyncio.sleep_ms(1)
                rounds += 1
            done = t1.done() and t2.done()
        finally:
            micropython.heap_unlock()
        log.append(done)

    asyncio.run(main())
    assert log == [True]


@micropython_only
def test_switching_allocates_nothing_per_round():
    asyncio.new_event_loop()
    deltas = []

    async def measure():
        await asyncio.sleep(0)
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()
            for _ in range(100):
                await asyncio.sleep(0)
                await asyncio.sleep_ms(1)
            deltas.append(gc.mem_alloc() - before)
        finally:
            gc.enable()

    async def main():
        others = [asyncio.create_task(spin()) for _ in range(4)]
        await measure()
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    asyncio.run(main())
    assert deltas == [0]
