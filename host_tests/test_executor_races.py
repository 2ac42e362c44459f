"""Races of the multi-core executor, made deterministic: each test stops the world at the
point where one thread's step falls between two steps of another (a steal's hand-over, a
completion, a shutdown) by calling the workers' steps in that order on one thread."""

import time

from shimeji import Executor, ExecutorClosed, Interval, TaskSlot, core, port, yield_now, yielding
from shimeji.task.slot import OK
from support import (
    alloc_delta,
    heap_locked,
    micropython_only,
    needs_extra_threads,
    needs_thread_module,
    needs_threads,
    reserve_threads,
    start_thread,
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
                await _yield()
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


@needs_thread_module  # an Executor, driven on this thread
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
    joiner.w[0] = 3  # WAITING
    target._live_slot().joiners.push(joiner)
    joiner.waiting_on = Watch(target._live_slot().joiners)
    a._unwait(joiner)
    assert seen == [True]
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


def _tick_on_this_thread(worker):
    core.register_thread(worker._ctx)  # what Worker.run does on the worker's own thread
    try:
        worker.tick()
    finally:
        core.unregister_thread()


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


@needs_thread_module  # an Executor, driven on this thread
def test_an_idle_worker_never_asks_a_worker_that_waits_for_an_answer_itself():
    # Worker 1's queue ran dry and it asked worker 0, as its thread would; worker 0, dry too,
    # looks for work. It asked worker 1 back, saw worker 1's request on its way to sleep,
    # answered it, and both asked again: on the classic ESP32 (a GIL interleaves them) worker
    # 0 did not sleep in 5 s, 42 requests each way. A thief is skipped: nothing to steal.
    ex = Executor(workers=2, capacity=2)
    w0, w1 = ex.workers
    with ex.critical_section:
        w0._thread = w1._thread = 1  # both loops "running"
        w0._request = w1
        w1._asked = w0
        w1._answer = -1
    try:
        assert w0._steal() is False  # four rounds, worker 1 skipped in each
        assert (w0.steal_requests, w0.failed_steals, w0._asked) == (0, 4, None)
        assert w1._request is None  # nothing asked of it
        w0._serve()  # worker 1's own request is answered as before
        assert w1._asked is None and w1._answer == 0
    finally:
        w0._thread = w1._thread = None
        ex.close()
        ex.join()


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
    started = []
    ended = []

    async def forever(i):
        with ex.critical_section:  # both workers append (no GIL on MicroPython's unix port)
            started.append(i)
        try:
            while True:
                await yield_now()
        finally:
            with ex.critical_section:
                ended.append(i)

    async def main():
        for i in range(6):
            ex.spawn(forever(i))
        for _ in range(3):
            await yield_now()
        return 5

    assert ex.run(main()) == 5
    assert [w.live_count() for w in ex.workers] == [0, 0]
    assert sorted(ended) == sorted(started) and len(started) >= 1


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



def _nap():
    time.sleep_ms(1) if hasattr(time, "sleep_ms") else time.sleep(0.001)


def _wait_for(done, what):
    """Nap until ``done()`` (at most ~10 s): a test that waits on other threads never hangs."""
    for _ in range(10000):
        if done():
            return
        _nap()
    raise AssertionError("waited 10 s for " + what)


def _register_four_at_once():

    # One element per thread, each written by its own thread only: with no GIL (the unix
    # port) two threads appending to one list at once can lose an item, and a wait on its
    # length then never ends (seen as a hang in a fresh-clone run, 2026-12-06).
    go = [False]
    ready = [False] * 4
    seen = [None] * 4
    finished = [False] * 4

    def worker(i):
        ctx = core.Context()
        ready[i] = True
        for _ in range(10000000):  # spins until go; bounded
            if go[0]:
                break
            if port.GIL:  # a spin keeps the GIL: where threads switch only when one waits
                _nap()  # (one core: ESP32-C3, SCHED_FIFO) no other thread ran before 10**7
        core.register_thread(ctx)
        seen[i] = len(yielding._threaded)
        for _ in range(10000):
            if None not in seen:
                break
            _nap()
        core.unregister_thread()
        finished[i] = True

    for i in range(4):
        start_thread(worker, i)  # ESP32: a thread parked at the module's import
    _wait_for(lambda: all(ready), "the four threads to start")
    go[0] = True
    _wait_for(lambda: all(finished), "the four threads to register and unregister")
    return seen


@needs_extra_threads(4)  # four threads register as workers at the same moment
def test_workers_registering_at_once_leave_one_threaded_entry():
    # Workers start together; two registering at once both found yielding._threaded empty and
    # extended it twice (a list of six), after which every yield_now on a worker failed to
    # unpack it ("too many values to unpack", seen once in a fresh-clone run on 4 workers).
    for _ in range(10):
        seen = _register_four_at_once()
        assert all(n in (0, 3) for n in seen), seen
        assert yielding._threaded == []


def _xorshift_reference(x):
    # the steal-round start's generator as it was written first: shift, then mask (the
    # 43-bit intermediate is a big int on 32-bit boards, hence the masked-first form)
    x ^= (x << 13) & 0x3FFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0x3FFFFFFF
    return x or 1


@needs_thread_module  # an Executor, driven on this thread
def test_each_worker_draws_its_steal_start_from_its_own_state():
    # Executor._random was one state that every worker read and wrote without the section:
    # two thieves at once could lose an update and ask the same victims in step. Now each
    # worker owns its state, seeded apart, and a draw on one leaves the others' unchanged.
    ex = Executor(workers=4, capacity=2)
    seeds = [w._rng for w in ex.workers]
    assert len(set(seeds)) == 4 and all(0 < s < 1 << 30 for s in seeds), seeds
    w = ex.workers[2]
    x = w._rng
    for _ in range(1000):
        r = w._random(3)
        x = _xorshift_reference(x)
        assert w._rng == x and 0 <= r < 3 and r == x % 3
        assert 0 < x < 1 << 30  # a small int on every board
    assert [v._rng for v in ex.workers if v is not w] == seeds[:2] + seeds[3:]
    assert len({v._rng for v in ex.workers}) == 4


def _draw(worker, n):
    for _ in range(n):
        worker._random(4)


@micropython_only  # heap_lock, gc.mem_alloc
@needs_thread_module  # an Executor, driven on this thread only
def test_the_steal_start_draw_allocates_nothing():
    ex = Executor(workers=2, capacity=2)
    w = ex.workers[1]
    heap_locked(_draw, w, 2000)  # a big int on the way would raise MemoryError here
    assert alloc_delta(_draw, w, 2000) == 0
