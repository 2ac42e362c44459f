"""The multi-core executor: workers on threads that share work by stealing.

On the MicroPython unix port the workers' threads really run in parallel (no GIL); under
CPython they take turns. Every test checks that nothing is lost or run twice: each task keeps
a "being polled" flag and the sequence of what it saw."""

from heaplocked import FixedLog
from shimeji import (
    BadArgument,
    Channel,
    Event,
    Executor,
    ExecutorClosed,
    PolicyError,
    TaskSlot,
    current_task,
    sleep_ms,
    yield_now,
)
from support import (
    executor_capacity,
    needs_extra_threads,
    needs_threads,
    raises,
)


class Probe:
    """Per-task bookkeeping: a task is never polled by two workers at once, and resumes in
    order (``seq`` counts its own steps)."""

    def __init__(self, n):
        self.busy = [False] * n
        self.seq = [0] * n
        self.overlaps = 0

    def step(self, i):
        if self.busy[i]:
            self.overlaps += 1
        self.busy[i] = True
        self.seq[i] += 1

    def leave(self, i):
        self.busy[i] = False


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_main_task_and_its_children_run_to_completion_on_two_workers():
    ex = Executor(workers=2, capacity=64)
    probe = Probe(40)

    async def child(i):
        for _ in range(30):
            probe.step(i)
            probe.leave(i)
            await yield_now()
        return i

    async def main():
        handles = [ex.spawn(child(i)) for i in range(40)]
        out = []
        for h in handles:
            out.append(await h)
        return out

    assert ex.run(main()) == list(range(40))
    assert probe.seq == [30] * 40
    assert probe.overlaps == 0
    polled = sum(w.polled for w in ex.workers)
    assert polled >= 40 * 31
    assert sum(w.stolen for w in ex.workers) == sum(w.given for w in ex.workers)


def _stress(workers, critical_section=None):
    capacity = executor_capacity(128, workers, least=24)
    n = min(100, (workers * capacity - 12) // 2)  # children: each spawns one; 10 sleepers
    ex = Executor(workers=workers, capacity=capacity, critical_section=critical_section)
    ch = Channel(8, critical_section=critical_section)
    done = Event(critical_section=critical_section)
    probe = Probe(2 * n)
    finished = FixedLog(n)  # workers add in parallel (no GIL on MicroPython), under the
    cancelled = FixedLog(10)  # section, into room made here (nothing allocated there)

    async def grandchild(i):
        probe.step(i)
        await yield_now()
        probe.leave(i)
        return i

    async def child(i):
        probe.step(i)
        h = ex.spawn(grandchild(n + i))  # lands on this worker, may be stolen
        probe.leave(i)
        await yield_now()
        await ch.send(i)
        r = await h
        with ex.critical_section:
            finished.add(i)
        return r

    async def sleeper(i):
        try:
            await done.wait()
        finally:
            with ex.critical_section:
                cancelled.add(i)

    async def main():
        sleepers = [ex.spawn(sleeper(i)) for i in range(10)]
        handles = [ex.spawn(child(i)) for i in range(n)]
        got = []
        for _ in range(n):
            got.append(await ch.recv())
        results = []
        for h in handles:
            results.append(await h)
        for h in sleepers[:5]:
            assert h.cancel()
        done.set()
        for h in sleepers:
            try:
                await h
            except BaseException:
                pass
        return sorted(got), results

    got, results = ex.run(main())
    assert got == list(range(n)), workers
    assert results == list(range(n, 2 * n)), workers
    assert sorted(finished.values()) == list(range(n))
    assert sorted(cancelled.values()) == list(range(10))
    assert probe.overlaps == 0
    assert probe.seq == [1] * (2 * n)


@needs_threads  # the workers are threads (the qemu port has none)
def test_stress_on_two_workers_loses_nothing():
    _stress(2)


@needs_extra_threads(3)  # four workers, three of them on threads of their own
def test_stress_on_four_workers_loses_nothing():
    _stress(4)


@needs_threads  # the workers are threads (the qemu port has none)
def test_tasks_on_every_worker_see_their_own_current_task_and_sleep_on_their_worker():
    ex = Executor(workers=2, capacity=32)
    seen = [None] * 20  # one element per task: two workers appending at once can lose one

    async def child(i):
        me = current_task()
        await sleep_ms(2)
        await yield_now()
        seen[i] = current_task() is me and me.id > 0
        return i

    async def main():
        hs = [ex.spawn(child(i)) for i in range(20)]
        out = []
        for h in hs:
            out.append(await h)
        return out

    assert ex.run(main()) == list(range(20))
    assert seen == [True] * 20


@needs_threads  # the workers are threads (the qemu port has none)
def test_close_under_load_cancels_every_task_and_refuses_spawns():
    ex = Executor(workers=2, capacity=64)
    started = FixedLog(30)  # workers add in parallel (no GIL on MicroPython), under the
    ended = FixedLog(30)  # section, into room made here (nothing allocated there)

    async def forever(i):
        with ex.critical_section:  # a task stolen but not polled before close() never starts
            started.add(i)
        try:
            while True:
                await yield_now()
        finally:
            with ex.critical_section:
                ended.add(i)

    async def main():
        for i in range(30):
            ex.spawn(forever(i))
        for _ in range(20):
            await yield_now()
        ex.close()  # takes effect when this worker's tick ends
        while True:
            await yield_now()

    with raises(ExecutorClosed, "make a new Executor"):
        ex.run(main())
    started, ended = started.values(), ended.values()
    assert sorted(ended) == sorted(started) and len(started) >= 15  # worker 0 keeps half
    for w in ex.workers:
        assert w.live_count() == 0

    async def late():
        pass

    coro = late()
    with raises(ExecutorClosed):
        ex.spawn(coro)
    coro.close()


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_spawn_from_outside_any_worker_goes_to_the_injector_and_its_handle_joins():
    ex = Executor(workers=2, capacity=16)

    async def work(x):
        await yield_now()
        return x * 2

    outside = ex.spawn(work(21))  # from the test's thread: the injector's path
    assert ex.injector.count == 1 and ex.injector.head is outside._live_slot()
    assert outside._live_slot().sched is ex.injector  # on no worker until one takes it
    assert all(w.policy.has_ready() is False and w._inbox_head is None for w in ex.workers)

    async def main():
        return await outside

    assert ex.run(main()) == 42
    assert sum(w.injected for w in ex.workers) == 1 and ex.injector.count == 0


@needs_threads  # the workers are threads (the qemu port has none)
def test_bad_arguments_are_refused_with_errors_that_say_what_to_do():
    with raises(BadArgument, "workers=0"):
        Executor(workers=0)
    with raises(BadArgument, "workers='2'"):
        Executor(workers="2")
    with raises(PolicyError, "'fifo' or 'rr'"):
        Executor(policy="cfs")
    ex = Executor(workers=1, capacity=4)

    async def main():
        return 7

    assert ex.run(main()) == 7  # still works after the refusals


@needs_threads  # the workers are threads (the qemu port has none)
def test_round_robin_workers_run_to_completion():
    ex = Executor(workers=2, capacity=16, policy="rr")

    async def child(i):
        for _ in range(5):
            await yield_now()
        return i

    async def main():
        out = []
        for i in range(10):
            out.append(await ex.spawn(child(i)))
        return out

    assert ex.run(main()) == list(range(10))


@needs_threads  # the workers are threads (the qemu port has none)
def test_slots_of_the_programs_own_yield_on_two_workers():
    ex = Executor(workers=2, capacity=4)
    mine = [TaskSlot() for _ in range(6)]
    steps = [None] * 6  # one element per task (its worker writes it): no shared append

    async def spin(i):
        for _ in range(50):
            await yield_now()
        steps[i] = i
        return i

    async def main():
        hs = [ex.workers[i % 2].spawn_allocated(mine[i], spin(i)) for i in range(6)]
        out = []
        for h in hs:
            out.append(await h)
        return out

    assert ex.run(main()) == [0, 1, 2, 3, 4, 5]
    assert steps == [0, 1, 2, 3, 4, 5]
