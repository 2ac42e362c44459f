"""Harder stress for the multi-core executor, on 2 and 4 workers: many short tasks that spawn
tasks, pass items through channels between workers, wake tasks on other workers, run under
``timeout()`` (some expire), sleep, and get cancelled from other workers; then ``close()``
from another thread while every worker is busy. Nothing is lost or duplicated, every handle
completes exactly once, and no task is left live."""

import sys
import time

from shimeji import (
    Cancelled,
    Channel,
    Event,
    Executor,
    ExecutorClosed,
    PoolFull,
    Timeout,
    sleep_ms,
    timeout,
    yield_now,
)
from support import (
    executor_capacity,
    needs_extra_threads,
    needs_threads,
    reserve_threads,
    start_thread,
)

# ESP32: the threads of the largest test (four workers, or three and worker 0's), made while
# their stacks fit (support.reserve_threads); elsewhere nothing.
reserve_threads(4)

_TASKS = 400
_BATCH = 50


class Ledger:
    """What every task did: finally blocks run once, no task polled by two workers at once."""

    def __init__(self, n):
        self.busy = [False] * n
        self.started = [0] * n
        self.ended = [0] * n
        self.overlaps = 0

    def enter(self, i):
        if self.busy[i]:
            self.overlaps += 1
        self.busy[i] = True

    def leave(self, i):
        self.busy[i] = False


def _churn(workers, critical_section=None):
    # Scaled to the heap (an RP2040 holds 2 x ~60 slots, not 2 x 192): tasks and batches
    # shrink with the capacity, so as many tasks are live at the peak per slot.
    capacity = executor_capacity(192, workers, least=24)
    per_batch = max(10, _BATCH * capacity // 192)
    tasks = max(2 * per_batch, _TASKS * capacity // 192 // per_batch * per_batch)
    ex = Executor(workers=workers, capacity=capacity, critical_section=critical_section)
    ledger = Ledger(2 * tasks)
    items = Channel(16, critical_section=critical_section)
    go = Event(critical_section=critical_section)
    received = []
    outcomes = {}

    async def grandchild(i):
        ledger.enter(i)
        await yield_now()
        ledger.leave(i)
        return i

    async def task(i):
        ledger.started[i] += 1  # a task cancelled before its first poll never starts
        try:
            ledger.enter(i)
            h = ex.spawn(grandchild(tasks + i))  # on this worker; it may be stolen
            ledger.leave(i)
            if i % 5 == 0:
                try:
                    await timeout(go.wait(), 1)  # go is set late: most of these expire
                except Timeout:
                    pass
            elif i % 5 == 1:
                await sleep_ms(i % 3)
            await yield_now()
            ledger.enter(i)
            ledger.leave(i)
            await items.send(i)  # the consumer runs on whichever worker holds it
            if i % 7 == 3:
                await go.wait()  # woken from another worker (or cancelled while waiting)
            return await h
        finally:
            ledger.ended[i] += 1

    async def consumer():
        while True:
            i = await items.recv()
            if i < 0:  # main's end mark: every task has finished
                return len(received)
            received.append(i)

    async def main():
        cons = ex.spawn(consumer())
        handles = []
        for start in range(0, tasks, per_batch):
            batch = [ex.spawn(task(i)) for i in range(start, start + per_batch)]
            handles.extend(batch)
            for h in batch[3::11]:  # cancelled wherever they are: queued, moved or waiting
                h.cancel()
            for k in range(1, per_batch, 2):  # join some now (not those waiting for go)
                if (start + k) % 7 != 3:
                    try:
                        await batch[k]
                    except Cancelled:
                        pass
        await sleep_ms(2)
        go.set()
        for i, h in enumerate(handles):
            try:
                outcomes[i] = ("ok", await h)
            except Cancelled:
                outcomes[i] = ("cancelled", None)
        await items.send(-1)
        return await cons

    assert ex.run(main()) == len(received)
    assert ledger.overlaps == 0, workers
    assert ledger.ended[:tasks] == ledger.started[:tasks], workers
    assert max(ledger.started) == 1 and sum(ledger.started[:tasks]) > tasks // 2
    assert len(outcomes) == tasks
    oks = [i for i, (k, v) in outcomes.items() if k == "ok"]
    assert all(outcomes[i][1] == tasks + i for i in oks)
    assert sorted(set(received)) == sorted(received), "an item was delivered twice"
    assert set(oks) <= set(received), "a task finished without its item arriving"
    assert len(oks) + sum(1 for k, _ in outcomes.values() if k == "cancelled") == tasks
    for w in ex.workers:
        assert w.live_count() == 0, (workers, w.index, w.tasks())
    assert sum(w.stolen for w in ex.workers) == sum(w.given for w in ex.workers)


@needs_threads  # the workers are threads
def test_churn_on_two_workers_loses_and_duplicates_nothing():
    _churn(2)


@needs_extra_threads(3)  # four workers, three of them on threads of their own
def test_churn_on_four_workers_loses_and_duplicates_nothing():
    _churn(4)


def _close_under_load(workers, critical_section=None):
    import _thread

    made = []
    done = []

    def run0():  # worker 0, on a thread started before the executor's slots are made
        for _ in range(60000):
            if made:
                break
            time.sleep(0.001)
        else:
            return  # the executor was never made: the test failed before
        try:
            made[0].run_worker(0)
        except ExecutorClosed:
            done.append(True)

    # Its stack first: on ESP32 a thread's stack comes from ESP-IDF's heap, which
    # MicroPython's heap grows into as the slots are made ("can't create thread" on the C3):
    # there a thread parked at the module's import (reserve_threads).
    start_thread(run0)
    # 64 slots a worker on the host; on a board 16 a worker (24 on 2), which still hold the 40
    # first tasks: the C3 ran out making 4 x 64 slots, and after three rounds on 4 workers
    # its heap had no 3 KB hole left for 2 x 43 slots' timer wheels (MemoryError).
    least = max(16, 48 // workers)
    capacity = 64 if sys.platform in ("linux", "darwin", "win32") else least
    ex = Executor(workers=workers, capacity=capacity, critical_section=critical_section)
    ended = []
    lock = _thread.allocate_lock()
    handles = []
    next_id = [1000]
    started = []

    async def busy(i):
        with lock:
            started.append(i)
        try:
            while True:
                if i % 3 == 0:
                    await sleep_ms(1)
                else:
                    await yield_now()
                if i % 4 == 0:
                    with lock:
                        n = next_id[0] = next_id[0] + 1
                    coro = busy(n)
                    try:
                        h = ex.spawn(coro)  # spawns race with the close
                    except (ExecutorClosed, PoolFull):  # closed, or every slot live
                        coro.close()  # refused, so still ours: it never ran (no warning)
                        raise
                    with lock:
                        handles.append(h)
        finally:
            with lock:
                ended.append(i)

    for i in range(40):
        handles.append(ex.spawn(busy(i)))
    ex.start()
    made.append(ex)  # worker 0 starts
    # Close once every first task has started and every worker has polled: a fixed sleep
    # here (50 ms) saw no task run on a loaded machine, where a thread may wait longer than
    # that for a core.
    _wait_until(lambda: len(started) >= 40 and all(w.polled for w in ex.workers),
                "the 40 first tasks started and every worker polled")
    ex.close()  # from this thread, while every worker runs
    _wait_until(lambda: done, "worker 0's run_worker raised ExecutorClosed")
    ex.join()
    assert done == [True]
    assert ex.errors == []
    for w in ex.workers:
        assert w.live_count() == 0, (workers, w.index, w.tasks())
    with lock:
        assert all(h.is_complete() for h in handles)
        assert sorted(ended) == sorted(set(ended)), "a finally block ran twice"
        assert sorted(ended) == sorted(started), "a started task's finally did not run"
        assert started, "no task ran before the close"


# Three rounds on the host; one on a board, where a parked worker thread's stack can keep the
# last round's executor alive until the next one reuses the thread (docs/executor.md, "Thread
# stacks on ESP32"): a C3's heap then has no room for a fourth.
ROUNDS = 3 if sys.platform in ("linux", "darwin", "win32") else 1


def _wait_until(ready, what):
    # Waits for another thread's progress; the bound only turns a hang into a failure.
    for _ in range(60000):
        if ready():
            return
        time.sleep(0.001)
    raise AssertionError("not after a minute: " + what)


@needs_extra_threads(2)  # both workers on threads of their own, closed from the main one
def test_close_under_load_from_another_thread_on_two_workers_leaves_nothing_running():
    for _ in range(ROUNDS):
        _close_under_load(2)


@needs_extra_threads(4)  # four workers on threads of their own, closed from the main one
def test_close_under_load_from_another_thread_on_four_workers_leaves_nothing_running():
    for _ in range(ROUNDS):
        _close_under_load(4)
