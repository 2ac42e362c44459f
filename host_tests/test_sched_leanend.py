# RunLoop.run()'s lean loop (sched/leanloop.py's run_lean) completes a task that returned None
# in line (sched/leankit.py's done: StaticScheduler._complete's common case, as the viper
# FIFO tick does), queueing a joiner parked by core.JOIN at the ring's tail itself. The same
# programs give the same events and counts with it and without it (loopiter.iterate alone);
# no None-returning task of a plain scheduler reaches _complete, every other outcome does, a
# scheduler with a _complete of its own gets every completion; the in-line completions
# allocate nothing (heap_lock and a zero gc.mem_alloc delta).
from shimeji import (
    Cancelled,
    RunLoop,
    StaticScheduler,
    TaskSlot,
    Timer,
    core,
    join_all,
    sleep_ms,
    yield_now,
)
from shimeji.sched import leanloop, loopiter
from support import micropython_only, needs_run_lean


class Counting:
    """run_lean, counting its calls (iterate reads the module's name per call)."""

    def __init__(self):
        self.calls = 0
        self.fn = leanloop.run_lean

    def __call__(self, loop, sched, until, live):
        self.calls += 1
        return self.fn(loop, sched, until, live)


def _spy(s):
    """Count the completions that reach ``s._complete`` (an instance attribute: the type's
    ``_complete`` stays StaticScheduler's, so the in-line completions stay on)."""
    seen = []
    base = s._complete

    def complete(slot, status, value):
        seen.append((status, value))
        base(slot, status, value)

    s._complete = complete
    return seen


def _run(s, main, fused):
    counting = Counting()
    loopiter.run_lean = counting if fused else None
    try:
        result = RunLoop(s).run(s.spawn(main))
    finally:
        loopiter.run_lean = counting.fn
    return result, counting.calls


def _batches(fused):
    s = StaticScheduler(12, timer=Timer())
    seen = _spy(s)
    log = []

    async def child(i):
        log.append(("child", i))
        if i % 4 == 3:
            await yield_now()
            log.append(("again", i))
        return None if i % 5 else i

    async def main():
        out = []
        for b in range(3):
            hs = [s.spawn(child(10 * b + i)) for i in range(8)]
            out.append(await join_all(*hs))
            log.append(("joined", b))
        return out

    result, calls = _run(s, main(), fused)
    return (result, log, s.completed_total, s.spawned_total, s.free_count(), s.live_count(),
            seen), calls


@needs_run_lean
def test_a_batch_joined_gives_the_same_events_and_counts_with_and_without_run_lean():
    plain, none = _batches(False)
    fused, calls = _batches(True)
    assert none == 0 and calls >= 1
    assert plain[:-1] == fused[:-1]
    assert fused[0] == [[10 * b, None, None, None, None, 10 * b + 5, None, None]
                        for b in range(3)]
    assert fused[4] == 12 and fused[5] == 0  # every slot back on the free list
    # in line: no None-returning child reached _complete; the values did, and main's list
    assert [v for _, v in fused[6]] == [0, 5, 10, 15, 20, 25, fused[0]]


def _at_once(fused):
    s = StaticScheduler(6, timer=Timer())
    seen = _spy(s)
    log = []

    async def child(i):
        log.append(("child", i))
        return None

    async def other():
        for i in range(6):
            log.append(("other", i))
            await yield_now()

    async def main():
        s.spawn(other())
        me = core.current_slot()
        for i in range(5):
            r = await s.spawn(child(i))
            log.append(("joined", i, r, me.wait_phase, me.wait_status, me.waiting_on))
        return "done"

    result, calls = _run(s, main(), fused)
    return (result, log, s.completed_total, s.spawned_total, s.free_count(), seen), calls


@needs_run_lean
def test_a_join_ended_in_line_queues_the_joiner_where_the_drain_would():
    plain, _ = _at_once(False)
    fused, calls = _at_once(True)
    assert calls >= 1
    assert plain[:-1] == fused[:-1]
    log = fused[1]
    assert [e for e in log if e[0] == "joined"] == [("joined", i, None, 0, 0, None)
                                                   for i in range(5)]
    assert fused[0] == "done" and fused[4] == 6
    assert [v for _, v in fused[5] if v is None] == []  # the children: in line


def _dirty(fused):
    # The in-line completion's rare cases: a named task, a task cancelled in its last poll, a
    # caller-owned slot (not back on the pool's free list), a task that failed.
    s = StaticScheduler(6, timer=Timer())
    seen = _spy(s)
    own = TaskSlot()
    log = []

    async def named():
        await sleep_ms(1)
        return None

    async def self_cancel(box):
        await yield_now()
        box[0].cancel()  # in its last poll: the completion drops the pending throw
        return None

    async def owned():
        await yield_now()
        return None

    async def failing():
        raise ValueError("boom")

    async def main():
        h1 = s.build_task().name("named").spawn(named())
        box = [None]
        box[0] = h2 = s.spawn(self_cancel(box))
        h3 = s.spawn_allocated(own, owned())
        h4 = s.spawn(failing())
        for h in (h1, h2, h3):
            log.append(await h)
        try:
            await h4
        except ValueError as e:
            log.append(str(e))
        log.append((own.sched is None, own.coro is None, own.name, own.throw_exc,
                    own.cancel_requested, h1.name))
        h5 = s.spawn_allocated(own, owned())  # the caller's slot is free again
        log.append(await h5)
        return [s.slots[i].name for i in range(6)]

    result, calls = _run(s, main(), fused)
    return (result, log, s.completed_total, s.failed_total, s.free_count(), seen), calls


@needs_run_lean
def test_named_cancelled_owned_and_failed_tasks_complete_alike_with_run_lean():
    plain, _ = _dirty(False)
    fused, calls = _dirty(True)
    assert calls >= 1
    assert plain[:-1] == fused[:-1]
    result, log = fused[0], fused[1]
    assert result == [None] * 6  # a free slot's name is None again
    assert log[:4] == [None, None, None, "boom"]
    assert log[4] == (True, True, None, None, False, "named")
    assert log[5] is None and fused[4] == 6
    assert [e for e in fused[5] if e[1] is None] == []
    assert len(fused[5]) == 2  # the failure and main's list: nothing else reached _complete


@needs_run_lean
def test_a_scheduler_with_its_own_complete_gets_every_completion():
    ends = []

    class Counted(StaticScheduler):
        def _complete(self, slot, status, value):
            ends.append((slot.id, value))
            StaticScheduler._complete(self, slot, status, value)

    s = Counted(8, timer=Timer())

    async def child(i):
        return None

    async def main():
        await join_all(*[s.spawn(child(i)) for i in range(5)])
        return await s.spawn(child(9))

    result, calls = _run(s, main(), True)
    assert result is None and calls >= 1
    assert len(ends) == 7 and s.free_count() == 8


def _cancelled_joiner(fused):
    s = StaticScheduler(6, timer=Timer())
    got = []

    async def child():
        got.append("child")
        return None

    async def joiner():
        try:
            await s.spawn(child())
        except Cancelled:
            got.append("cancelled")
            return None
        got.append("joined")
        return None

    async def main():
        h = s.spawn(joiner())
        await yield_now()
        h.cancel()  # parked on the child's joiners: the child's completion finds none
        await h
        return got

    result, calls = _run(s, main(), fused)
    return (result, s.free_count(), s.completed_total), calls


@needs_run_lean
def test_a_joiner_cancelled_before_the_in_line_join_ends_cancelled():
    plain, _ = _cancelled_joiner(False)
    fused, calls = _cancelled_joiner(True)
    assert calls >= 1 and plain == fused
    assert fused[0] == ["child", "cancelled"] and fused[1] == 6


@micropython_only
@needs_run_lean
def test_in_line_completions_in_run_lean_allocate_nothing():
    import gc

    import micropython

    s = StaticScheduler(12, timer=Timer())
    mem = [0, -1]
    locked = [False]

    async def child():
        return None

    async def main():
        coros = [child() for _ in range(40)]  # (made first: a coroutine is an allocation)
        for i in range(40):
            if i == 10:  # warmed up
                gc.collect()
                gc.disable()
                mem[0] = gc.mem_alloc()
                micropython.heap_lock()
                locked[0] = True
            s.spawn_detached(coros[i])  # (the slot's own handle: no allocation)
            await yield_now()
        micropython.heap_unlock()
        locked[0] = False
        mem[1] = gc.mem_alloc()

    counting = Counting()
    loopiter.run_lean = counting
    try:
        RunLoop(s).run(s.spawn(main()))
    finally:
        loopiter.run_lean = counting.fn
        if locked[0]:
            micropython.heap_unlock()
        gc.enable()
    assert mem[1] == mem[0] and counting.calls == 1 and s.free_count() == 12
