"""memory: bytes allocated per spawned task beyond the coroutine object, and per task switch
(``gc.mem_alloc()`` deltas with the collector disabled). MicroPython only.

- per task: spawn 100 tasks whose coroutines were made beforehand, so the figure is what the
  runtime adds (asyncio: a ``Task``; shimeji: nothing, the slot exists already), with a pool
  slot and with a caller-owned ``TaskSlot`` (``spawn_allocated``).
- per switch: 100 tasks yielding 200 times, measured after every task was spawned and polled
  once. "steady state" stops before any task finishes; "with completion" runs them to the end
  (each completion raises one StopIteration inside ``send``: both runtimes pay it).

On a board whose heap is smaller the task count is scaled to ``gc.mem_free()`` (the note
says so); the figures are per task and per switch."""

import gc
import sys

from benchlib import emit, fit, heap_cost, mem_delta, slot_cost

YIELDS = 200

if sys.implementation.name != "micropython":
    emit("memory", "bytes (gc.mem_alloc: MicroPython only)", "B", None, None)
    raise SystemExit(0)

import asyncio  # noqa: E402

from shimeji import StaticScheduler, TaskSlot, yield_now  # noqa: E402

_sleep = asyncio.sleep_ms


async def trivial():
    return None


# Two slots per task at once (the pool's and a caller-owned one), two coroutines, a handle.
TASKS = fit(100, 2 * slot_cost() + 2 * heap_cost(trivial) + 64)


def shimeji_per_task():
    s = StaticScheduler(TASKS)
    for _ in range(2):  # warm up: every slot used once
        for _ in range(TASKS):
            s.spawn_detached(trivial())
        s.tick()
    coros = [trivial() for _ in range(TASKS)]

    def spawn_all():
        for c in coros:
            s.spawn_detached(c)

    spawned = mem_delta(spawn_all)
    s.tick()
    handles = [None] * TASKS
    coros = [trivial() for _ in range(TASKS)]

    def spawn_with_handles():  # each handle is handed out: a new one per spawn
        for i in range(TASKS):
            handles[i] = s.spawn(coros[i])

    for i in range(TASKS):
        handles[i] = s.spawn(trivial())
    s.tick()
    with_handle = mem_delta(spawn_with_handles)
    s.tick()
    slots = [TaskSlot() for _ in range(TASKS)]
    for sl in slots:  # the first use registers each caller-owned slot
        s.spawn_allocated(sl, trivial(), None, True)
    s.tick()
    coros = [trivial() for _ in range(TASKS)]

    def spawn_owned():
        for i in range(TASKS):
            s.spawn_allocated(slots[i], coros[i], None, True)

    owned = mem_delta(spawn_owned)
    s.tick()
    return spawned / TASKS, owned / TASKS, with_handle / TASKS


def asyncio_per_task():
    coros = [trivial() for _ in range(TASKS)]
    out = [0]

    async def main():
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(TASKS)])
        tasks = [None] * TASKS

        def spawn_all():
            for i in range(TASKS):
                tasks[i] = asyncio.create_task(coros[i])

        out[0] = mem_delta(spawn_all)
        for t in tasks:
            await t

    asyncio.run(main())
    return out[0] / TASKS


def shimeji_per_switch():
    s = StaticScheduler(TASKS)
    count = [0]

    async def yielder(n):
        for _ in range(n):
            await yield_now()
            count[0] += 1

    for _ in range(TASKS):
        s.spawn_detached(yielder(YIELDS))
    s.tick(TASKS)  # every task polled once

    def steady():
        for _ in range(YIELDS // 2):
            s.tick(TASKS)

    def to_the_end():
        while s.tick().polled:
            pass

    a = mem_delta(steady)
    n_a = count[0]
    b = mem_delta(to_the_end)
    return a / n_a, b / (count[0] - n_a)


def asyncio_per_switch():
    out = [0, 0, 0, 0]
    count = [0]
    done = [0]

    async def yielder(n):
        for _ in range(n):
            await _sleep(0)
            count[0] += 1
        done[0] += 1

    async def main():
        # main samples: it yields like the others, after them (FIFO), so each of its rounds
        # spans one switch of every task. The tasks are never awaited: awaiting a Task
        # allocates a wait queue, which is not a switch cost.
        for _ in range(TASKS):
            asyncio.create_task(yielder(YIELDS))
        await _sleep(0)
        gc.collect()
        gc.disable()
        c0 = count[0]
        a = gc.mem_alloc()
        for _ in range(YIELDS // 2):
            await _sleep(0)
        b = gc.mem_alloc()
        c1 = count[0]
        while done[0] < TASKS:
            await _sleep(0)
        c = gc.mem_alloc()
        gc.enable()
        out[0] = b - a
        out[1] = c1 - c0
        out[2] = c - b
        out[3] = count[0] - c1

    asyncio.run(main())
    return out[0] / out[1], out[2] / out[3]


def pool_slot_bytes(policy=None):
    """Bytes one pool slot adds to a ``StaticScheduler`` (the slot, its handle, its timer
    entry and joiner list, and a policy's ``PolicyFields``), from 8 slots to 24."""
    from shimeji import FakeClock, StaticScheduler

    def make(n):
        return lambda: StaticScheduler(n, policy=policy() if policy else None,
                                       clock_us=FakeClock())

    return (heap_cost(make(24), 1) - heap_cost(make(8), 1)) // 16


def main():
    from shimeji import RoundRobinPolicy

    # Two rows: a figure is a number (tools/bench.py formats and compares it; a "972 / 1292"
    # string stopped `make bench` at its table).
    emit("memory", "bytes per pool slot, FIFO", "B", pool_slot_bytes(), None, "")
    emit("memory", "bytes per pool slot, round robin", "B", pool_slot_bytes(RoundRobinPolicy),
         None, "")
    sh_task, sh_owned, sh_handle = shimeji_per_task()
    as_task = asyncio_per_task()
    emit("memory", "bytes per spawned task beyond the coroutine (spawn_detached)", "B",
         sh_task, as_task)
    emit("memory", "bytes per spawned task with its JoinHandle (spawn)", "B", sh_handle,
         as_task)
    emit("memory", "bytes per task, caller-owned slot (spawn_allocated)", "B", sh_owned, as_task)
    sh_steady, sh_end = shimeji_per_switch()
    as_steady, as_end = asyncio_per_switch()
    emit("memory", "bytes per steady-state switch", "B", round(sh_steady, 3), round(as_steady, 3))
    emit("memory", "bytes per switch, running to completion", "B", round(sh_end, 3),
         round(as_end, 3))


main()
