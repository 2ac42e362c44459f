"""The multi-core executor: workers on threads that share work by stealing.

On the MicroPython unix port the workers' threads really run in parallel (no GIL); under
CPython they take turns. Every test checks that nothing is lost or run twice: each task keeps
a "being polled" flag and the sequence of what it saw."""

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
    acquire_within,
    alloc_delta,
    executor_capacity,
    micropython_only,
    needs_extra_threads,
    needs_thread_module,
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


def _stress(workers):
    capacity = executor_capacity(128, workers, least=24)
    n = min(100, (workers * capacity - 12) // 2)  # children: each spawns one; 10 sleepers
    ex = Executor(workers=workers, capacity=capacity)
    ch = Channel(8)
    done = Event()
    probe = Probe(2 * n)
    finished = []
    cancelled = []

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
        with ex.critical_section:  # workers append in parallel (no GIL on MicroPython)
            finished.append(i)
        return r

    async def sleeper(i):
        try:
            await done.wait()
        finally:
            with ex.critical_section:
                cancelled.append(i)

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
    assert sorted(finished) == list(range(n))
    assert sorted(cancelled) == list(range(10))
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
def test_an_imbalanced_start_is_evened_out_by_stealing():
    ex = Executor(workers=2, capacity=80)

    async def child():
        s = 0
        for k in range(100):
            for j in range(20):
                s += j * k
            await yield_now()
        return s

    async def main():
        # Wait (boundedly) until worker 1, idle, has asked worker 0 for work or gone to sleep,
        # so the test does not depend on when the OS first runs worker 1's thread (CPython's
        # GIL may not soon).
        for _ in range(200000):
            if ex.workers[0]._request is not None or ex.workers[1].sleeping:
                break
            await yield_now()
        hs = [ex.spawn(child()) for _ in range(64)]  # all on worker 0
        for h in hs:
            await h

    ex.run(main())
    assert ex.workers[1].stolen > 0
    assert ex.workers[1].stolen_from[0] == ex.workers[1].stolen
    assert ex.workers[0].given == ex.workers[1].stolen
    assert ex.workers[1].polled > 0


@needs_threads  # the workers are threads (the qemu port has none)
def test_close_under_load_cancels_every_task_and_refuses_spawns():
    ex = Executor(workers=2, capacity=64)
    started = []
    ended = []

    async def forever(i):
        with ex.critical_section:  # a task stolen but not polled before close() never starts
            started.append(i)
        try:
            while True:
                await yield_now()
        finally:
            with ex.critical_section:  # workers append in parallel (no GIL on MicroPython)
                ended.append(i)

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
@micropython_only
def test_the_heap_is_flat_after_warm_up():
    import gc

    ex = Executor(workers=2, capacity=64)
    live = []

    async def child():
        for _ in range(10):
            await yield_now()

    async def round_(n):
        for h in [ex.spawn(child()) for _ in range(n)]:
            await h

    async def main():
        for _ in range(3):  # warm-up: every slot of worker 0 used (a slot keeps its last
            await round_(63)  # handle, so a slot used for the first time keeps 128 B more)
        # and every slot of worker 1: a spawn finds worker 0's pool full while slots freed
        # on worker 1 are on their way back, spills to worker 1, and first-used slots there
        # grew the heap by 896 B (7 x 128) between two measured rounds in ~1 run of 3
        for h in [ex.workers[1].spawn(child()) for _ in range(64)]:
            await h
        for _ in range(4):
            gc.collect()
            live.append(gc.mem_alloc())
            await round_(40)

    ex.run(main())
    # Nothing is kept from round to round once warm: a leak of even 8 B per task would grow
    # the heap by 640 B over the last two rounds. The first measured round still settles
    # once (768 B, the same in every run), and the collector scans the other worker's stack
    # conservatively: allow 256 B from the second measurement on.
    assert live[-1] - live[1] <= 256, live


@needs_threads  # the workers are threads (the qemu port has none)
@micropython_only
def test_the_yield_a_worker_task_takes_allocates_nothing():
    from shimeji import core, yielding

    ctx = core.Context()
    core.register_thread(ctx)
    try:
        assert alloc_delta(yield_now) == 0  # one worker thread: the shared ring
        assert alloc_delta(yielding._thread_yield) == 0  # several: the thread's own awaitable
        assert yielding._thread_yield() is ctx.yielder
    finally:
        core.unregister_thread()


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


def _queue_of(worker):
    """The slots in a worker's FIFO run queue, in order (without taking them out)."""
    out = []
    slot = worker._fifo.head
    while slot is not None:
        out.append(slot)
        slot = slot.run_next
    return out


def _inbox_of(worker):
    out = []
    slot = worker._inbox_head
    while slot is not None:
        out.append(slot)
        slot = slot.inbox_next
    return out


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_steal_hands_over_the_newer_half_as_a_sequential_model_says():
    # The model: a victim with n runnable tasks keeps the older n - min(n // 2, 256) and the
    # thief's inbox gets the rest in order, except tasks with an armed timer entry, which
    # stay (in order) with the victim. Checked for every n up to 40 and a pattern of armed
    # entries; no task is lost, duplicated or left on the wrong worker.
    for n in range(41):
        ex = Executor(workers=2, capacity=48)
        victim, thief = ex.workers
        coros = []

        async def idle():
            await yield_now()

        for _ in range(n):
            c = idle()
            coros.append(c)
            victim.spawn(c)
        victim._drain_inbox()  # spawned tasks wait in the inbox until the tick drains it
        before = _queue_of(victim)
        assert len(before) == n
        armed = [s for i, s in enumerate(before) if i % 7 == 3]
        for s in armed:
            s.timer.pos = 0  # looks armed to the hand-over (not on any wheel)
        keep = n - min(n // 2, 256)
        victim._request = thief
        ring = victim._ctx.ring
        victim._serve()
        if ring is not None:  # MicroPython: a hand-over retires the victim's yield ring
            assert (victim._ctx.ring is not ring) == (keep < n), n
        expect_given = [s for i, s in enumerate(before) if i >= keep and s not in armed]
        expect_kept = [s for s in before if s not in expect_given]
        assert _queue_of(victim) == expect_kept, n
        assert _inbox_of(thief) == expect_given, n
        assert all(s.sched is thief for s in expect_given)
        assert all(s.sched is victim for s in expect_kept)
        assert thief.stolen == len(expect_given) == victim.given
        assert victim._request is None
        for s in armed:
            s.timer.pos = -1
        for c in coros:
            c.close()
        # Let this n's executor go before the next is made: two 2 x 48 executors at once found
        # no 296 B block on the classic ESP32 after the other executor modules had run (its
        # heap grows into ESP-IDF's, where the parked threads' stacks are; session 15), as
        # test_executor_injector's sequential model did on the C3
        ex = victim = thief = coros = before = armed = expect_given = expect_kept = None
        ring = s = c = idle = None


@needs_threads  # the workers are threads (the qemu port has none)
def test_yield_now_switches_to_the_threads_own_ring_once_two_workers_poll():
    import gc

    from shimeji import core, yielding

    ctx = core.Context()
    other = core.Context()
    plain = yield_now()  # one thread: the shared ring (MicroPython) or the shared YieldNow
    core.register_thread(ctx)
    assert yield_now() is plain  # one polling thread keeps the shared one
    core._threads[-1] = other  # a second worker thread, as register_thread on it would add
    core.register_thread(ctx)  # (again: now two threads poll)
    try:
        if not hasattr(gc, "mem_alloc"):  # CPython: no ring, a YieldNow per thread
            assert yield_now() is ctx.yielder and ctx.yielder.armed
            ctx.yielder.armed = False
            return
        old = ctx.ring
        assert yield_now() is old[1]  # the thread's own ring
        assert alloc_delta(yield_now) == 0
        for _ in old[1]:  # spend what the calls left (they were not awaited)
            pass
        yield_now()  # left in the ring, as a yield_now() not awaited leaves it
        core.renew_ring(ctx)  # before a hand-over: the old ring is spent and retired
        assert ctx.ring is not old and yield_now() is ctx.ring[1]
        assert [x for x in old[1]] == []
        old[0](None)  # nobody appends to a retired ring; were it done, it still works
        assert [x for x in ctx.ring[1]] == [None]
        for _ in old[1]:
            pass
        import _thread

        seen = []
        lock = _thread.allocate_lock()
        lock.acquire()

        def outside():  # no worker's thread: the interpreter's shared ring
            seen.append(yield_now())
            lock.release()

        _thread.start_new_thread(outside, ())
        acquire_within(lock, "the thread outside every worker to call yield_now()")
        assert seen == [plain]
    finally:
        del core._threads[-1]
        core.unregister_thread()
    assert not yielding._threaded and yield_now() is plain
    for _ in plain:  # spend the items the calls above appended
        pass


@needs_thread_module  # an Executor, driven on this thread
def test_a_steal_gives_up_after_four_rounds_without_a_victim():
    # Issue 14: up to four rounds over the other workers, from a random one. No other worker
    # runs (none has a thread), so each is skipped, never waited for, in every round.
    ex = Executor(workers=3, capacity=2)
    w0 = ex.workers[0]
    assert w0._steal() is False
    assert (w0.failed_steals, w0.steal_requests, w0._asked) == (4, 0, None)
    ex.close()
    ex.join()
