# The join's hand-off (sched/owntick.py): on MicroPython, ``await handle`` of a task spawned in
# the same poll, while the FIFO tick's ring holds only the awaiting task and the tick may still
# make the two polls the join would take, runs that task at once inside the awaiting task's
# poll. What it must keep, against the general tick (which never hands off) on both runtimes:
# the order of every step and every Tick's counts, whatever the child does first (returns,
# fails, yields, sleeps, parks, joins, spawns, cancels its joiner); tick(n)'s budget; nothing
# allocated but what the same tasks cost unjoined (the coroutine, the handle, the StopIteration),
# a returned value as much as None.
from gate import Gate
from shimeji import (
    Cancelled,
    FakeClock,
    FifoPolicy,
    StaticScheduler,
    Timer,
    core,
    current_task,
    sleep_ms,
    yield_now,
)
from shimeji.task.slot import JoinHandle, TaskSlot
from shimeji.task.words import state_of
from support import alloc_delta, micropython_only

RING = JoinHandle.__iter__ is not JoinHandle.__await__  # the join ring (sched/owntick.py)


class GeneralFifo(FifoPolicy):
    """FIFO through the scheduler's general path (only exactly FifoPolicy is inlined)."""


def _shapes(s, log, gate, parent):
    async def returns(k):
        log.append(("run", k))
        return k

    async def fails(k):
        log.append(("run", k))
        raise ValueError(k)

    async def yields(k):
        log.append(("run", k))
        await yield_now()
        log.append(("again", k))
        return None

    async def sleeps(k):
        log.append(("run", k))
        await sleep_ms(2)
        log.append(("slept", k))
        return k

    async def parks(k):
        log.append(("run", k))
        await gate
        log.append(("opened", k))
        return None

    async def joins(k):
        log.append(("run", k))
        return await s.spawn(returns(k + 100))

    async def spawns(k):
        log.append(("run", k))
        s.spawn(returns(k + 200))
        return None

    async def cancels_its_joiner(k):
        log.append(("run", k))
        parent[0].cancel()
        return k

    return (returns, fails, yields, sleeps, parks, joins, spawns, cancels_its_joiner)


def _events(policy, step):
    # A driver spawns each shape and awaits it at once, alone in the ring; tick(step) each
    # round: the log and every Tick's counts.
    clock = FakeClock()
    timer = Timer(clock=clock, tick_us=1000)
    s = StaticScheduler(6, policy=policy, timer=timer)
    log = []
    gate = Gate()
    parent = [None]
    shapes = _shapes(s, log, gate, parent)

    async def driver():
        for k, shape in enumerate(shapes):
            try:
                log.append(("joined", k, await s.spawn(shape(k))))
            except ValueError as e:
                log.append(("failed", k, str(e)))
            except Cancelled:
                log.append(("cancelled", k))
        return "done"

    async def opener():
        for _ in range(40):
            if gate.slot is not None:
                gate.open()
                return
            await yield_now()

    h = s.spawn(driver())
    parent[0] = h
    ticks = []
    for i in range(200):
        if h.is_complete():
            break
        if i == 3:
            s.spawn(opener())
        clock.advance(1000)
        timer.turn()
        t = s.tick(step)
        ticks.append((t.polled, t.completed, t.spawned, t.woken_internal, t.woken_external))
    return log, ticks, h.is_cancelled(), s.completed_total, s.spawned_total, s.free_count()


def test_every_shape_keeps_the_general_ticks_order_and_counts_at_every_budget():
    for step in (1, 2, 3, 4, 256):
        fast = _events(FifoPolicy(), step)
        assert fast == _events(GeneralFifo(), step), step
        assert not fast[2]  # (the last shape cancelled the driver: Cancelled at its await)
        log = fast[0]
        assert ("joined", 0, 0) in log and ("failed", 1, "1") in log
        assert log.index(("run", 105)) > log.index(("run", 5)) and ("joined", 5, 105) in log
        assert log.index(("run", 206)) < log.index(("joined", 6, None))
        assert ("cancelled", 7) in log and fast[5] == 6


def test_the_child_runs_inside_the_joiners_poll_where_the_ring_hands_off():
    s = StaticScheduler(4)
    seen = []

    async def child():
        seen.append(state_of(me[0]))
        return 5

    async def driver():
        me[0] = core.current_slot()
        return await s.spawn(child())

    me = [None]
    h = s.spawn(driver())
    t = s.tick()
    # handed off: the driver was still RUNNING and got the value in the same poll; without
    # the ring (CPython) it parked ASLEEP and ran again after the child's poll
    assert seen == [core.RUNNING if RING else core.ASLEEP]
    assert h.result() == 5 and (t.polled, t.completed, t.spawned) == (3, 2, 2)


def test_a_bystander_in_the_ring_keeps_the_join_a_park():
    s = StaticScheduler(4)
    log = []

    async def child():
        log.append("child")

    async def bystander():
        log.append("bystander")

    async def driver():
        s.spawn(bystander())
        await yield_now()  # the bystander is in the ring now, after the driver
        s.spawn(bystander())
        await s.spawn(child())  # the child runs after the second bystander: FIFO
        log.append("joined")

    s.run_until_complete(driver())
    assert log == ["bystander", "bystander", "child", "joined"]


def test_a_returned_value_error_or_handle_reaches_the_joiner_as_on_the_general_tick():
    err = ValueError("returned, not raised")

    def run(policy):
        s = StaticScheduler(4, policy=policy)

        async def child(v):
            return v

        async def driver():
            got = []
            for v in (7, "seven", err, None, (1, 2)):
                h = s.spawn(child(v))
                got.append(await h)
                got.append(h.result())
            inner = s.spawn(child(8))
            got.append((await s.spawn(child(inner))) is inner)
            return got

        h = s.spawn(driver())
        ticks = []
        while not h.is_complete():
            t = s.tick()
            ticks.append((t.polled, t.completed, t.spawned))
        return h.result(), ticks, s.completed_total, s.spawned_total, s.free_count()

    fast = run(FifoPolicy())
    assert fast == run(GeneralFifo())
    got = fast[0]
    assert got[:4] == [7, 7, "seven", "seven"] and got[6:] == [None, None, (1, 2), (1, 2), True]
    assert got[4] is err and got[5] is err


def _loop(s, n, joined, value=None):
    async def trivial():
        return value

    async def loop():
        for _ in range(n):
            if joined:
                await s.spawn(trivial())
            else:  # the same tasks spawned, run and ended, nobody joining them
                s.spawn(trivial())
                await yield_now()

    return loop()


@micropython_only
def test_a_hand_off_allocates_nothing_more_than_the_task_itself():
    s = StaticScheduler(4)
    for joined in (False, True):
        s.run_until_complete(_loop(s, 6, joined))  # warm up
    alone = alloc_delta(s.run_until_complete, _loop(s, 30, False))
    joined = alloc_delta(s.run_until_complete, _loop(s, 30, True))
    assert joined <= alone, (alone, joined)
    for joined in (False, True):  # a value: completed in line too, given by the await
        s.run_until_complete(_loop(s, 6, joined, 1))
    alone = alloc_delta(s.run_until_complete, _loop(s, 30, False, 1))
    joined = alloc_delta(s.run_until_complete, _loop(s, 30, True, 1))
    assert joined <= alone, (alone, joined)


def test_a_caller_owned_or_named_child_completes_as_without_the_hand_off():
    s = StaticScheduler(4)
    mine = TaskSlot()

    async def named():
        return current_task().name

    async def driver():
        a = await s.spawn(named(), name="kid")
        b = await s.spawn_allocated(mine, named())
        c = await s.spawn(named())
        return a, b, c, mine.coro, mine.sched, s.free_count()

    assert s.run_until_complete(driver()) == ("kid", None, None, None, None, 3)
    assert s.free_count() == 4 and s.live_count() == 0
    assert s.run_until_complete(driver())[:3] == ("kid", None, None)  # the slot again
