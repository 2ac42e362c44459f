"""Races of the multi-core executor, made deterministic: each test stops the world at the
point where one thread's step falls between two steps of another (a steal's hand-over, a
completion, a shutdown) by calling the workers' steps in that order on one thread."""

from shimeji import Executor, TaskSlot
from shimeji.task.slot import OK


async def _value(x):
    return x


def _fifo(worker):
    out = []
    slot = worker.policy.head
    while slot is not None:
        out.append(slot)
        slot = slot.run_next
    return out


def test_a_handle_whose_task_ends_while_its_joiner_links_is_never_reused():
    # Worker B completes the task between the joiner reading handle._slot and taking the
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
    assert (h.id, h2.id) == (1, 2)


def test_a_cancel_that_reaches_the_worker_a_task_just_left_follows_the_task():
    # handle.cancel() read slot.sched (the victim), then the victim handed the task over.
    ex = Executor(workers=2, capacity=8)
    victim, thief = ex.workers
    ended = []

    async def loop(i):
        try:
            while True:
                await _yield()
        finally:
            ended.append(i)

    handles = [victim.spawn(loop(i)) for i in range(2)]
    victim.tick()  # started: a finally block runs only in a started coroutine
    victim._request = thief
    victim._serve()  # the newer task moves to the thief
    moved = handles[1]._slot
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


def test_a_steal_answered_after_the_thief_shut_down_keeps_the_tasks_for_the_victim():
    # close(): the thief shuts down first; the victim answers the thief's request after that.
    # Moving the tasks then would leave them on a worker that never runs again.
    ex = Executor(workers=2, capacity=16)
    victim, thief = ex.workers
    ended = []

    async def loop(i):
        try:
            while True:
                await _yield()
        finally:
            ended.append(i)

    handles = [victim.spawn(loop(i)) for i in range(6)]
    victim.tick()
    victim._request = thief
    ex.close()
    thief._shut_down()
    victim._serve()
    assert victim.given == 0 and thief.stolen == 0
    assert len(_fifo(victim)) == 6
    victim._shut_down()
    assert sorted(ended) == list(range(6))
    assert all(h.is_cancelled() for h in handles)
    assert victim.live_count() == 0 and thief.live_count() == 0


def test_a_joiner_cancelled_from_its_own_worker_leaves_the_join_list_under_the_section():
    # The joined task's worker pops the join list under the critical section; the joiner's
    # worker must unlink under it too (Worker._unwait).
    ex = Executor(workers=2, capacity=8)
    a, b = ex.workers
    cs = ex.critical_section
    seen = []

    class Watch:
        def __init__(self, inner):
            self.inner = inner

        def remove(self, slot):
            seen.append(cs.held())
            slot.waiting_on = self.inner
            self.inner.remove(slot)

    target = b.spawn(_value(5))
    joiner = TaskSlot()
    joiner.sched = a
    joiner.state = 3  # WAITING
    target._slot.joiners.push(joiner)
    joiner.waiting_on = Watch(target._slot.joiners)
    a._unwait(joiner)
    assert seen == [True]
    assert target._slot.joiners.head is None
    b.tick()
    assert target.result() == 5
    assert target._status == OK


class _Yield:
    def __init__(self):
        self.armed = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if not self.armed:
            self.armed = True
            return None
        self.armed = False
        raise StopIteration


def _yield():
    return _Yield()
