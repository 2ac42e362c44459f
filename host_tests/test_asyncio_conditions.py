# Condition, LifoQueue and PriorityQueue: CPython's, which MicroPython's asyncio lacks. Each
# program runs on shimeji.asyncio (both runtimes) and, under CPython, on CPython's own asyncio
# too: the event lists asserted are what CPython 3.11 gives.
import gc

from mpyheap import needs_heap_beside_mpy_code

import shimeji.asyncio as asyncio
from support import IS_MICROPYTHON, raises

# On the RP2040's .mpy path the facade's and the scheduler's code fill most of the heap; the
# tests marked below (queues, conditions) load more of it: each passed there with 15 KB free
# before it, the least seen, so each skips only under that (docs/boards.md, "RP2040, session 22").
_MPY_HEAP = 15 * 1024


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _check(program, expected):
    _fresh()
    assert asyncio.run(program(asyncio)) == expected
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(program(cpython_asyncio)) == expected, "CPython differs"


async def _rounds(aio, n=5):
    for _ in range(n):
        await aio.sleep(0)


async def _notifying(aio):
    out = []
    cond = aio.Condition()
    items = []

    async def consumer(name):
        async with cond:
            out.append(name + " waits")
            await cond.wait_for(lambda: items)
            out.append((name, items.pop(0), cond.locked()))

    tasks = [aio.create_task(consumer(n)) for n in ("c1", "c2", "c3")]
    await _rounds(aio)
    async with cond:
        items.append(1)
        cond.notify()
    await _rounds(aio)
    async with cond:
        items.extend([2, 3])
        cond.notify_all()
    await aio.gather(*tasks)
    out.append(cond.locked())
    return out


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_notify_wakes_the_oldest_waiter_and_notify_all_the_rest():
    _check(_notifying, ["c1 waits", "c2 waits", "c3 waits", ("c1", 1, True), ("c2", 2, True),
                        ("c3", 3, True), False])


async def _cancelled_waiter(aio):
    out = []
    cond = aio.Condition()

    async def waiter():
        async with cond:
            try:
                await cond.wait()
            except aio.CancelledError:
                out.append(("cancelled, holds the lock", cond.locked()))
                raise

    t = aio.create_task(waiter())
    await _rounds(aio)
    async with cond:
        t.cancel()
        await _rounds(aio)
        out.append(("main holds it", t.done()))
    await _rounds(aio)
    out.append((t.cancelled(), cond.locked()))
    return out


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_a_cancelled_waiter_takes_the_lock_again_before_it_leaves():
    _check(_cancelled_waiter, [("main holds it", False), ("cancelled, holds the lock", True),
                               (True, False)])


async def _queues(aio):
    out = []
    lifo = aio.LifoQueue()
    prio = aio.PriorityQueue(maxsize=3)
    for i in (1, 2, 3):
        await lifo.put(i)
    for item in ((5, "e"), (1, "a"), (3, "c")):
        await prio.put(item)
    out.append(prio.full())

    async def late():
        await prio.put((0, "z"))  # waits: the queue is full

    t = aio.create_task(late())
    await aio.sleep(0)
    out.append([lifo.get_nowait() for _ in range(3)])
    got = []
    for _ in range(4):  # (MicroPython has no await in a comprehension)
        got.append((await prio.get())[1])
    out.append(got)
    await t
    return out


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_lifo_and_priority_queues_give_newest_and_smallest_first():
    _check(_queues, [True, [3, 2, 1], ["a", "c", "e", "z"]])


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_waiting_or_notifying_without_the_lock_is_a_runtimeerror():
    _fresh()

    async def main():
        cond = asyncio.Condition()
        with raises(RuntimeError, "take the lock first"):
            await cond.wait()
        with raises(RuntimeError, "take the lock first"):
            cond.notify()
        async with cond:  # still usable
            cond.notify_all()
        return cond.locked()

    assert asyncio.run(main()) is False


def test_a_priority_queue_without_heapq_keeps_the_same_order():
    from shimeji.asyncio import extras

    saved = extras._heappush, extras._heappop
    extras._heappush = extras._heappop = None  # (a port built without heapq)
    try:
        q = asyncio.PriorityQueue()
        for item in ((2, "b"), (1, "a"), (3, "c"), (1, "a2")):
            q.put_nowait(item)
        got = [q.get_nowait()[1] for _ in range(4)]
    finally:
        extras._heappush, extras._heappop = saved
    assert got == ["a", "a2", "b", "c"]


async def _barrier(aio):
    out = []
    b = aio.Barrier(3)

    async def party(name):
        out.append((name, "waits", b.n_waiting))
        i = await b.wait()
        out.append((name, i))

    ts = [aio.create_task(party(n)) for n in ("a", "b")]
    await _rounds(aio)
    out.append(("waiting", b.n_waiting))
    out.append(("main", await b.wait()))
    await aio.gather(*ts)
    ts = [aio.create_task(party(n)) for n in ("c", "d")]  # used again
    await _rounds(aio)
    await b.abort()
    for t in ts:
        try:
            await t
        except aio.BrokenBarrierError:
            out.append("broken")
    out.append((b.broken, b.parties, b.n_waiting))
    try:
        await b.wait()
    except aio.BrokenBarrierError:
        out.append("still broken")
    await b.reset()
    out.append(b.broken)
    await _rounds(aio)  # (the loop's look at the failed tasks, a round later: nothing to say)
    return out


def test_a_barrier_lets_its_parties_go_together_and_abort_breaks_it():
    _check(_barrier, [("a", "waits", 0), ("b", "waits", 1), ("waiting", 2), ("main", 2),
                      ("a", 0), ("b", 1), ("c", "waits", 0), ("d", "waits", 1), "broken",
                      "broken", (True, 3, 0), "still broken", False])
