# A join of a task of the joiner's own scheduler, while tick_fifo polls on this thread
# (core.JOIN): the joiner parks ASLEEP with no critical section and the in-line completion
# queues it back into the tick's ring. Everything the WAITING park gave must still hold: the
# order of the general tick, the Tick's counts, cancellation and timeouts of the parked joiner,
# a value or an error handed over, several joiners, a stray wake ignored. Both runtimes.
from gate import Gate
from shimeji import (
    Cancelled,
    FakeClock,
    FifoPolicy,
    StaticScheduler,
    Timeout,
    Timer,
    core,
    timeout,
    yield_now,
)
from support import alloc_delta, heap_locked, micropython_only


class GeneralFifo(FifoPolicy):
    """FIFO through the scheduler's general path (only exactly FifoPolicy is inlined)."""


async def quick(log, k):
    log.append(("run", k))
    return None


def _events(policy):
    # A task spawns and awaits at once, with a bystander yielding and a task that spawns
    # before it ends (the joiner then queues behind what it spawned): the order of every step.
    s = StaticScheduler(6, policy=policy)
    log = []

    async def spawns_then_ends(k):
        log.append(("run", k))
        s.spawn(quick(log, k + 100))
        return None

    async def bystander():
        for i in range(6):
            log.append(("by", i))
            await yield_now()

    async def driver():
        for k in range(3):
            await s.spawn(quick(log, k))
            log.append(("joined", k))
        await s.spawn(spawns_then_ends(7))
        log.append(("joined", 7))
        return "done"

    s.spawn_detached(bystander())
    h = s.spawn(driver())
    ticks = []
    while True:
        t = s.tick(4)
        ticks.append((t.polled, t.completed, t.spawned, t.woken_internal, t.woken_external))
        if not t.has_remaining:
            break
    assert h.result() == "done"
    assert s.live_count() == 0 and s.free_count() == 6
    return log, ticks


def test_spawn_then_await_keeps_the_general_ticks_order_and_counts():
    fast = _events(FifoPolicy())
    general = _events(GeneralFifo())
    assert fast == general
    log = fast[0]
    assert log.index(("run", 107)) < log.index(("joined", 7))
    assert sum(t[3] for t in fast[1]) == 4  # one wake per join, counted as before


def test_the_parked_joiner_is_asleep_and_a_stray_wake_leaves_it_parked():
    s = StaticScheduler(4)
    g = Gate()
    got = []

    async def joiner():
        got.append(await s.spawn(quick_gated(g)))

    async def quick_gated(gate):
        await gate
        return None

    h = s.spawn(joiner())
    s.tick()
    me = h._ref
    assert me.w[0] == core.ASLEEP and me.waiting_on is not None
    s.wake(me)  # an interrupt handler's wake of it (or any stray one): ignored
    t = s.tick()
    assert t.polled == 0 and me.w[0] == core.ASLEEP and got == []
    g.open()
    while s.tick().has_remaining:
        pass
    assert got == [None] and h.result() is None
    assert s.live_count() == 0


def test_a_cancelled_joiner_leaves_the_join_and_the_joined_task_runs_on():
    s = StaticScheduler(4)
    g = Gate()
    out = []

    async def gated():
        await g
        return None

    async def joiner():
        inner = s.spawn(gated())
        out.append(inner)
        try:
            await inner
        except Cancelled:
            out.append("cancelled")
            raise

    h = s.spawn(joiner())
    s.tick()
    assert h._ref.w[0] == core.ASLEEP
    assert h.cancel() is True
    s.tick()
    assert out[1:] == ["cancelled"] and h.is_cancelled()
    inner = out[0]
    assert not inner.is_complete() and inner._ref.joiners.head is None
    g.open()
    while s.tick().has_remaining:
        pass
    assert inner.result() is None and s.live_count() == 0


def test_a_timeout_ends_the_parked_join_and_the_joined_task_runs_on():
    clock = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock, 1000))
    g = Gate()
    out = []

    async def gated():
        await g
        return 5

    async def joiner():
        inner = s.spawn(gated())
        out.append(inner)
        try:
            await timeout(inner, 3)
        except Timeout:
            out.append("timeout")

    h = s.spawn(joiner())
    s.tick()
    assert h._ref.w[0] == core.ASLEEP
    for _ in range(5):
        clock.advance(1000)
        s.timer.turn()
        s.tick()
    assert out[1:] == ["timeout"] and h.result() is None
    g.open()
    while s.tick().has_remaining:
        pass
    assert out[0].result() == 5 and s.live_count() == 0


def test_a_value_an_error_and_two_joiners_reach_every_parked_joiner():
    s = StaticScheduler(6)
    g = Gate()
    got = []

    async def gated(v):
        await g
        if v == "boom":
            raise ValueError("boom")
        return v

    async def waits(h):
        try:
            got.append(await h)
        except ValueError as e:
            got.append(str(e))

    async def driver():
        a = s.spawn(gated(41))
        s.spawn_detached(waits(a))  # a second joiner of a, parked WAITING or ASLEEP alike
        got.append(await a)
        b = s.spawn(gated("boom"))
        await waits(b)

    h = s.spawn(driver())
    for _ in range(3):
        s.tick()
    g.open()
    for _ in range(6):
        s.tick()
        g.open()
    assert h.result() is None
    assert sorted(got[:2]) == [41, 41] and got[2] == "boom"
    assert s.live_count() == 0


async def _gated(g):
    await g
    return None


async def _joiner(h, g, out):
    out[0] = await h
    out[1] += 1
    await g  # parks: the joiner does not complete while measured


def _finish_one(s, g):
    g.open()
    for _ in range(3):
        s.tick()


def _parked_join(s, out):
    g = Gate()
    h = s.spawn(_gated(g))
    s.spawn_detached(_joiner(h, Gate(), out))
    s.tick()  # the joiner is parked on the handle now, ASLEEP (core.JOIN)
    assert len([x for x in s.slots if x.w[0] == core.ASLEEP and x.waiting_on is not None]) == 1
    return g


@micropython_only
def test_a_parked_join_and_its_wake_allocate_nothing():
    # The join (parking ASLEEP, the in-line completion's hand-back, the handle's end) adds
    # nothing to the task's completion (the StopIteration send() raises: see
    # test_sched_alloc_hot_paths), under heap_lock and by gc.mem_alloc().
    s = StaticScheduler(8)
    out = [None, 0]
    for _ in range(3):  # warm up both shapes
        g = Gate()
        s.spawn_detached(_gated(g))
        s.tick()
        _finish_one(s, g)
        _finish_one(s, _parked_join(s, out))
    g = Gate()
    s.spawn_detached(_gated(g))
    s.tick()
    alone = alloc_delta(_finish_one, s, g)
    before = out[1]
    joined = alloc_delta(_finish_one, s, _parked_join(s, out))
    assert out[1] == before + 1 and out[0] is None
    assert joined == alone, (alone, joined)
    heap_locked(_finish_one, s, _parked_join(s, out))
    assert out[1] == before + 2
