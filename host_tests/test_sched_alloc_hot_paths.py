# Cross-cutting allocation proofs (issue 7): every entry point an interrupt handler may call,
# the yield and join paths, both tick paths, and the steady state of a mixed workload (yields,
# parks and wakes, timer sleeps, an Interval, a ticker waking others) under every policy.
# Each is proved with heap_lock AND a zero gc.mem_alloc() delta: heap_lock alone is fooled by
# the emergency exception object. The primitives' own proofs live with them.
import gc

from gate import Gate
from shimeji import (
    CfsPolicy,
    FakeClock,
    FifoPolicy,
    Interval,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    Timer,
    core,
    sleep_ms,
    yield_now,
)
from shimeji.sync.critical import NoCriticalSection, default_critical_section
from support import FakeClock as UsClock
from support import alloc_delta, heap_locked, micropython_only, thread_section

MASK = (1 << 30) - 1


class GeneralFifo(FifoPolicy):
    """FIFO through the scheduler's general path (only exactly FifoPolicy is inlined)."""


async def parked(g):
    while True:
        await g


class Env:
    def __init__(self, **kw):
        for k in kw:
            setattr(self, k, kw[k])


def _isr_entries(env, cs):
    s = env.s
    a = env.a
    b = env.b
    free = env.free
    timer = env.timer
    s.wake(a)  # WAITING: linked into the inbox
    s.wake(a)  # now QUEUED: idempotent
    core.wake(b)
    core.wake(b)
    s.wake(free)  # no task: a no-op
    core.wake(free)
    timer.interrupt()
    timer.interrupt(timer)  # as a machine.Timer callback, with its argument
    timer.now()
    env.handle.is_complete()
    state = cs.enter()
    cs.exit(state)


@micropython_only
def test_every_isr_entry_point_allocates_nothing():
    clock = FakeClock(MASK - 5000)
    timer = Timer(clock)
    s = StaticScheduler(4, timer=timer)
    h1 = s.spawn(parked(Gate()))
    h2 = s.spawn(parked(Gate()))
    s.tick()
    env = Env(s=s, a=h1._live_slot(), b=h2._live_slot(), free=s.slots[3], timer=timer, handle=h1)
    for cs in (s.critical_section, default_critical_section(), thread_section(),
               NoCriticalSection()):
        _isr_entries(env, cs)  # warm up
        assert s.tick().polled == 2  # woken, polled, parked again (the gates stay shut)
        heap_locked(_isr_entries, env, cs)
        assert s.tick().polled == 2
        assert alloc_delta(_isr_entries, env, cs) == 0
        t = s.tick()
        assert (t.polled, t.woken_external) == (2, 2)


async def yielder(n):
    for _ in range(n):
        await yield_now()


def _yield_round(s, n):
    for _ in range(n):
        s.tick()


@micropython_only
def test_yield_now_allocates_nothing_on_both_tick_paths():
    for policy in (FifoPolicy(), GeneralFifo()):
        s = StaticScheduler(8, policy=policy)
        for _ in range(8):
            s.spawn_detached(yielder(10000))
        s.tick()
        heap_locked(_yield_round, s, 20)
        assert alloc_delta(_yield_round, s, 20) == 0


async def quick(g):
    await g
    return None


async def joiner(h, g, out):
    out[0] = await h
    out[1] += 1
    await g  # parks: the joiner does not complete while measured


def _finish_one(s, g):
    g.open()
    for _ in range(3):
        s.tick()


@micropython_only
def test_joining_adds_nothing_to_a_task_completion():
    # Completing a task costs the StopIteration that send() raises (MicroPython allocates it;
    # asyncio pays the same). The join (parking on the handle, the wake, the handle's result)
    # must add nothing to that.
    s = StaticScheduler(8)
    out = [None, 0]  # the result, and how many joins returned (no list growth: it allocates)
    for _ in range(3):  # warm up both shapes
        g = Gate()
        s.spawn_detached(quick(g))
        s.tick()
        _finish_one(s, g)
        g = Gate()
        s.spawn_detached(joiner(s.spawn(quick(g)), Gate(), out))
        s.tick()
        _finish_one(s, g)
    g = Gate()
    s.spawn_detached(quick(g))
    s.tick()
    alone = alloc_delta(_finish_one, s, g)
    g = Gate()
    s.spawn_detached(joiner(s.spawn(quick(g)), Gate(), out))
    s.tick()  # the joiner is parked on the handle now
    before = out[1]
    joined = alloc_delta(_finish_one, s, g)
    assert out[1] == before + 1
    assert joined == alone, (alone, joined)
    assert alone <= 64


async def sleeper(ms):
    while True:
        await sleep_ms(ms)


async def ticker_task(gates):
    iv = Interval(period_ms=3)
    while True:
        await iv
        for g in gates:
            g.open()


async def busy(clk):
    while True:
        clk.advance(20)  # run time for the timed policies
        await yield_now()


def _mixed_rounds(clock, timer, s, n):
    for _ in range(n):
        clock.advance(1)
        timer.turn()
        s.tick(64)
        s.tick(64)


def _mixed(policy, us_clock):
    clock = FakeClock(MASK - 20000)  # crosses the tick wrap while measured
    timer = Timer(clock)
    s = StaticScheduler(16, policy=policy, timer=timer, clock_us=us_clock.now)
    gates = [Gate() for _ in range(4)]
    for g in gates:
        s.spawn_detached(parked(g))
    for ms in (1, 2, 5, 9):
        s.spawn_detached(sleeper(ms))
    for _ in range(3):
        s.spawn_detached(busy(us_clock))
    s.spawn_detached(ticker_task(gates))
    _mixed_rounds(clock, timer, s, 30)  # warm up: every path taken
    return clock, timer, s


def _check_mixed(policy_class):
    policy = policy_class()
    us_clock = UsClock()
    clock, timer, s = _mixed(policy, us_clock)
    heap_locked(_mixed_rounds, clock, timer, s, 40)
    assert alloc_delta(_mixed_rounds, clock, timer, s, 40) == 0, policy.name
    assert s.live_count() == 12
    s.close()


@micropython_only
def test_mixed_workload_steady_state_allocates_nothing_under_every_policy():
    # One scheduler at a time: each policy is made for its run and dropped with its scheduler
    # (a policy keeps its queued slots, so a policy kept alive keeps its scheduler: five of
    # them, 16 slots each, do not fit next to the tests on an STM32L475's ~87 KB heap).
    for policy_class in (FifoPolicy, GeneralFifo, RoundRobinPolicy, CfsPolicy,
                         PriorityPolicy):
        _check_mixed(policy_class)
        gc.collect()
