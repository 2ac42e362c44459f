"""Executor workers tick with the viper FIFO tick bound for each alone (sched/wordtick.py
``bind``): a finished task's exception passes through the binding's closure cell, which no
other thread shares. On the MicroPython unix port the workers' threads run in parallel (no
GIL), so two workers finishing tasks at the same moment would mix their outcomes up if the
cell were shared."""

from shimeji import Executor, core, yield_now
from shimeji.sched import fastpath, wordtick
from support import (
    alloc_delta,
    executor_capacity,
    heap_locked,
    micropython_only,
    needs_extra_threads,
    needs_thread_module,
)


class Mine(Exception):
    pass


@needs_thread_module  # an Executor, driven on this thread
def test_each_worker_has_a_binding_of_its_own_and_its_tick_runs_it():
    ex = Executor(workers=2, capacity=4)
    a, b = ex.workers
    assert a._tick_own is not b._tick_own  # (on the RP2040 too: on core 1 as on core 0)
    assert a._tick_own is not wordtick.tick_fifo
    assert a._tick_own is not fastpath.tick_fifo
    calls = []
    own = a._tick_own

    def counting(sched, n):
        calls.append(n)
        return own(sched, n)

    a._tick_own = counting

    async def two():
        await yield_now()
        return 2

    h = a.spawn(two())
    core.register_thread(a._ctx)  # what Worker.run does on the worker's own thread
    try:
        while not h.is_complete():
            a.tick()
    finally:
        core.unregister_thread()
    assert h.result() == 2
    assert calls and calls[0] == a.DEFAULT_TICK_SIZE


@needs_thread_module
def test_a_binding_given_another_worker_ticks_it_with_the_native_tick():
    ex = Executor(workers=2, capacity=4)
    a, b = ex.workers

    async def fails():
        await yield_now()
        raise Mine("b's")

    h = b.spawn(fails())
    core.register_thread(b._ctx)
    try:
        for _ in range(3):
            a._tick_own(b, 8)  # b is not a's: not a's cell (the native tick polls b)
            wordtick.tick_fifo(b, 8)  # the shared binding: the native tick for a worker
    finally:
        core.unregister_thread()
    try:
        h.result()
        raise AssertionError("the task's exception was lost")
    except Mine as e:
        assert e.args == ("b's",)


TASKS = 100  # per worker and round (fewer where the heap is smaller: executor_capacity)
ROUNDS = 20


@needs_extra_threads(1)  # worker 1's thread (worker 0 runs on this one)
def test_two_workers_finishing_tasks_with_exceptions_at_once_give_each_handle_its_own():
    # Each worker runs a driver that spawns tasks on it and joins them, both at once: every
    # task ends at its first poll by raising an exception of its own or returning a value of
    # its own, which passes through its worker's cell between the handler's store and the
    # read after it (a cell both shared would hand one worker's outcome to the other's task,
    # or None: the handler clears its name at its end).
    # (on two RP2040 cores 2 x 108 slots left no room for a round's list of handles: sized to
    # the heap, as the other executor tests are)
    tasks = executor_capacity(TASKS + 8, 2, least=24) - 8
    ex = Executor(workers=2, capacity=tasks + 8)
    raised = [None] * (2 * tasks)
    wrong = []

    async def ends(i):
        if i & 1:
            e = Mine(i)
            raised[i] = e
            raise e
        return i

    async def driver(w, base):
        for _ in range(ROUNDS):
            hs = [w.spawn(ends(base + i)) for i in range(tasks)]
            for i, h in enumerate(hs):
                i += base
                try:
                    got = await h
                    if got != i or i & 1:
                        wrong.append((i, got))
                except Mine as e:
                    if e is not raised[i]:
                        wrong.append((i, e))
        return w.polled

    async def main():
        a, b = ex.workers
        ha = a.spawn(driver(a, 0))
        hb = b.spawn(driver(b, tasks))
        await ha
        await hb
        return [w.polled for w in ex.workers]

    polled = ex.run(main())
    assert wrong == []
    assert polled[1] > 0, polled  # worker 1 ran tasks (in parallel with worker 0)


async def _spin():
    while True:
        await yield_now()


@needs_thread_module
@micropython_only
def test_a_workers_own_tick_allocates_nothing():
    ex = Executor(workers=2, capacity=8)
    w = ex.workers[0]
    for _ in range(4):
        w.spawn(_spin())
    core.register_thread(w._ctx)
    try:
        w.tick()  # warm-up: the tasks' first polls
        t = heap_locked(w.tick)
        assert t.polled == w.DEFAULT_TICK_SIZE  # the four spinners, turn after turn
        assert alloc_delta(w.tick) == 0
        assert alloc_delta(w._tick_own, w, 64) == 0
    finally:
        core.unregister_thread()
        ex.close()
