"""Races of the multi-core executor, made deterministic: each test stops the world at the
point where one thread's step falls between two steps of another (a steal's hand-over, a
completion, a shutdown) by calling the workers' steps in that order on one thread."""

import time

from executorhelp import plain_yield
from heaplocked import FixedLog
from shimeji import Executor, ExecutorClosed, Interval, TaskSlot, core, spawn, yield_now
from shimeji.task.slot import OK, QUEUED
from support import (
    needs_thread_module,
    needs_threads,
    reserve_threads,
)

# ESP32: the four threads of the registering test, made while their stacks fit
# (support.reserve_threads); elsewhere nothing.
reserve_threads(4)


async def _value(x):
    return x


def _fifo(worker):
    out = []
    slot = worker.policy.head
    while slot is not None:
        out.append(slot)
        slot = slot.run_next
    return out


@needs_thread_module  # an Executor, driven on this thread
def test_a_handle_whose_task_ends_while_its_joiner_links_is_never_reused():
    # Worker B completes the task between the joiner reading handle._ref and taking the
    # section (_join_parallel). The handle was handed out: the slot must not reuse it.
    ex = Executor(workers=2, capacity=1)
    w = ex.workers[1]
    h = w.spawn(_value(1))
    w.tick()
    assert h.is_complete() and h.result() == 1
    me = TaskSlot()
    try:
        h._join_parallel(me, w)
    except StopIteration as e:
        assert e.value == 1
    else:
        raise AssertionError("a finished task's join must finish at once")
    assert me.waiting_on is None
    h2 = w.spawn(_value(2))  # the same (only) slot
    w.tick()
    assert h2 is not h
    assert (h.result(), h2.result()) == (1, 2)
    first = w._id_range[0]  # worker 1's ids: its own range, after worker 0's
    assert (h.id, h2.id) == (first, first + 1)


@needs_thread_module  # an Executor, driven on this thread
def test_a_cancel_that_reaches_the_worker_a_task_just_left_follows_the_task():
    # handle.cancel() read slot.sched (the victim), then the victim handed the task over.
    ex = Executor(workers=2, capacity=8)
    victim, thief = ex.workers
    ended = []

    async def loop(i):
        try:
            while True:
                await plain_yield()
        finally:
            ended.append(i)

    handles = [victim.spawn(loop(i)) for i in range(2)]
    victim.tick()  # started: a finally block runs only in a started coroutine
    victim._request = thief
    victim._serve()  # the newer task moves to the thief
    moved = handles[1]._live_slot()
    assert moved.sched is thief
    assert victim.cancel_slot(moved) is True  # the stale route
    assert thief.cancel_slot(moved) is False  # already pending
    thief.tick()
    assert ended == [1]
    assert handles[1].is_cancelled()
    assert not handles[0].is_complete()
    ex.close()
    victim._shut_down()
    thief._shut_down()
    assert sorted(ended) == [0, 1]


@needs_thread_module  # an Executor, driven on this thread
def test_a_joiner_cancelled_from_its_own_worker_leaves_the_join_list_under_the_section():
    # The joined task's worker pops the join list under the critical section; the joiner's
    # worker must unlink under it too (Worker._unwait).
    ex = Executor(workers=2, capacity=8)
    a, b = ex.workers
    cs = ex.critical_section
    seen = FixedLog(8)  # remove() runs inside the section: room made here

    class Watch:
        def __init__(self, inner):
            self.inner = inner

        def remove(self, slot):
            seen.add(cs.held())
            slot.waiting_on = self.inner
            self.inner.remove(slot)

    target = b.spawn(_value(5))
    joiner = TaskSlot()
    joiner.sched = a
    joiner.w[0] = 3  # WAITING
    target._live_slot().joiners.push(joiner)
    joiner.waiting_on = Watch(target._live_slot().joiners)
    a._unwait(joiner)
    assert seen.values() == [True]
    assert target._live_slot().joiners.head is None
    b.tick()
    assert target.result() == 5
    assert target._state() == OK


@needs_thread_module  # an Executor, driven on this thread
def test_a_task_inside_a_timeout_stays_on_its_worker_after_its_deadline_fired():
    # The deadline fired (entry disarmed, DeadlineExpired pending) but the guard has not
    # ended: its _end re-arms an outer deadline on the wheel it armed on, this worker's.
    ex = Executor(workers=2, capacity=8)
    victim, thief = ex.workers
    handles = [victim.spawn(_value(i)) for i in range(2)]
    victim._drain_inbox()
    inside = handles[1]._live_slot()
    inside.deadline_owner = object()  # what an active TimeoutGuard leaves
    victim._request = thief
    victim._serve()
    assert inside.sched is victim and thief.stolen == 0
    inside.deadline_owner = None
    victim.tick()
    assert [h.result() for h in handles] == [0, 1]


def _tick_on_this_thread(worker, n=256):
    core.register_thread(worker._ctx)  # what Worker.run does on the worker's own thread
    try:
        return worker.tick(n)
    finally:
        core.unregister_thread()


@needs_thread_module  # an Executor, driven on this thread
def test_a_task_spawned_by_a_worker_task_moves_before_its_first_poll_and_runs_once_there():
    # docs/executor.md "How a task moves": only a QUEUED task moves. A plain scheduler's task
    # spawned in line keeps a FREE state word until its first poll (task/words.py); a worker
    # never spawns in line (parallel: _local_next is False), so what its task spawns is QUEUED
    # at once, and a hand-over before its first poll moves it whole: each step runs once,
    # never on two workers, none lost (a "being polled" flag and a step count per task).
    ex = Executor(workers=2, capacity=16)
    victim, thief = ex.workers
    assert victim._local_next is False and thief._local_next is False
    n = 6
    busy = [False] * n
    steps = [0] * n
    overlaps = []
    where = [[] for _ in range(n)]
    states = []

    async def child(i):
        for _ in range(3):
            if busy[i]:
                overlaps.append(i)
            busy[i] = True
            steps[i] += 1
            where[i].append(core.current_slot().sched)
            busy[i] = False
            await plain_yield()
        return i

    async def parent():
        hs = []
        for i in range(n):
            h = spawn(child(i))  # from a worker's task: onto this worker
            states.append(h._live_slot().w[0])
            hs.append(h)
        return hs

    ph = victim.spawn(parent())
    assert _tick_on_this_thread(victim, 1).polled == 1  # the parent only: children unpolled
    handles = ph.result()
    slots = [h._live_slot() for h in handles]
    assert states == [QUEUED] * n and steps == [0] * n
    victim._drain_inbox()
    victim._request = thief
    victim._serve()  # the newer half moves, never polled
    assert [s.sched for s in slots] == [victim] * 3 + [thief] * 3
    assert [s.w[0] for s in slots] == [QUEUED] * n
    for _ in range(10):
        _tick_on_this_thread(thief)
        _tick_on_this_thread(victim)
    assert [h.result() for h in handles] == list(range(n))
    assert steps == [3] * n and overlaps == []
    assert where == [[victim] * 3] * 3 + [[thief] * 3] * 3


@needs_thread_module  # an Executor, driven on this thread
def test_an_interval_follows_its_task_to_the_worker_it_moved_to():
    ex = Executor(workers=2, capacity=8)
    victim, thief = ex.workers
    iv = Interval(period_ms=2)
    wheels = []

    async def periodic():
        for _ in range(3):
            await iv
            wheels.append(iv.timer)
        return iv.count

    other = victim.spawn(_value(0))
    h = victim.spawn(periodic())
    _tick_on_this_thread(victim)  # periodic arms its first deadline on the victim's wheel
    slot = h._live_slot()
    assert slot.timer.wheel is victim.timer.wheel
    filler = victim.spawn(_value(9))  # older than periodic's wake: it stays, periodic moves
    for _ in range(200):
        time.sleep(0.002)
        victim.timer.turn()
        if slot.w[0] == 1:  # QUEUED: the deadline came
            break
    victim._drain_inbox()
    victim._request = thief
    victim._serve()
    assert slot.sched is thief
    _tick_on_this_thread(thief)  # the next await arms on the thief's wheel, never the victim's
    assert slot.timer.wheel is thief.timer.wheel
    assert iv.timer is thief.timer
    for _ in range(400):
        if h.is_complete():
            break
        time.sleep(0.002)
        thief.timer.turn()
        _tick_on_this_thread(thief)
    assert h.result() == 3
    assert wheels == [thief.timer] * 3  # every await after the move finished on the thief
    _tick_on_this_thread(victim)
    assert (other.result(), filler.result()) == (0, 9)


@needs_threads  # a worker runs on its own thread
def test_a_spawn_into_a_caller_owned_slot_rings_a_sleeping_worker():
    ex = Executor(workers=2, capacity=4)
    w = ex.workers[1]
    ex.start()  # worker 1 on its own thread: nothing to do, it sleeps
    try:
        for _ in range(2000):
            if w.sleeping:
                break
            time.sleep(0.001)
        assert w.sleeping
        h = w.spawn_allocated(TaskSlot(), _value(7))
        for _ in range(2000):
            if h.is_complete():
                break
            time.sleep(0.001)
        assert h.is_complete() and h.result() == 7
    finally:
        ex.close()
        ex.join()
    coro = _value(8)
    try:
        w.spawn_allocated(TaskSlot(), coro)
    except ExecutorClosed as e:
        coro.close()
        assert "make a new Executor" in str(e)
    else:
        raise AssertionError("a closed executor must refuse spawn_allocated")


@needs_threads  # a worker runs on its own thread
def test_the_tasks_left_on_the_main_worker_after_run_are_cancelled():
    # run(main) returns when main finishes, then closes and joins: the worker that ran main
    # is no longer running, so join() must cancel what it still holds.
    ex = Executor(workers=2, capacity=16)
    started = FixedLog(6)  # both workers add (no GIL on MicroPython's unix port), under the
    ended = FixedLog(6)  # section, into room made here (nothing allocated there)

    async def forever(i):
        with ex.critical_section:
            started.add(i)
        try:
            while True:
                await yield_now()
        finally:
            with ex.critical_section:
                ended.add(i)

    async def main():
        for i in range(6):
            ex.spawn(forever(i))
        for _ in range(3):
            await yield_now()
        return 5

    assert ex.run(main()) == 5
    assert [w.live_count() for w in ex.workers] == [0, 0]
    started, ended = started.values(), ended.values()
    assert sorted(ended) == sorted(started) and len(started) >= 1
