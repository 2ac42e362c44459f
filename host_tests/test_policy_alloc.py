# Every policy's steady state allocates nothing: polls, yields at preemption points, wakes,
# accounting (hog ring included), inheritance, re-prioritising and CFS renormalising. Proved
# with heap_lock AND a zero gc.mem_alloc() delta.
import sys

from gate import Gate
from shimeji import (
    CfsPolicy,
    FifoPolicy,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    preempt_due,
    preempt_point,
    yield_now,
)
from support import FakeClock, _Skipped, alloc_delta, heap_locked, micropython_only


async def worker(clk, us):
    while True:
        clk.advance(us)
        await preempt_point()
        clk.advance(us)
        if preempt_due():
            await preempt_point()
        await yield_now()


async def parker(g):
    while True:
        await g


async def opener(clk, gates):
    while True:
        for g in gates:
            g.open()
        clk.advance(40)
        await yield_now()


def _ticks(s, n):
    for _ in range(n):
        s.tick(16)


def _loaded(policy, prios=None):
    clk = FakeClock()
    s = StaticScheduler(12, policy=policy, clock_us=clk.now)
    gates = [Gate() for _ in range(3)]
    hs = []
    for i in range(8):
        hs.append(s.spawn(worker(clk, 30 + 10 * i)))
    for g in gates:
        hs.append(s.spawn(parker(g)))
    hs.append(s.spawn(opener(clk, gates)))
    if prios is not None:
        for h, p in zip(hs, prios):
            s.set_priority(h, p)
    _ticks(s, 20)  # warm up: every path taken once
    return s, hs


def _check(s):
    heap_locked(_ticks, s, 30)
    assert alloc_delta(_ticks, s, 30) == 0


@micropython_only
def test_fifo_plain_and_measured_allocate_nothing():
    s, _ = _loaded(FifoPolicy())
    _check(s)
    s, _ = _loaded(FifoPolicy(hog_us=60))  # every few polls a hog: the ring path too
    _check(s)
    assert s.policy.stats.hog_count > 0


@micropython_only
def test_round_robin_allocates_nothing():
    s, _ = _loaded(RoundRobinPolicy(70, hog_us=60))
    _check(s)
    assert s.policy.stats.polls > 0


@micropython_only
def test_cfs_allocates_nothing():
    s, _ = _loaded(CfsPolicy(granularity_us=50), [0, 5, -5, 19, -20, 3, 0, 1, 0, 2, 4, -1])
    _check(s)


@micropython_only
def test_cfs_renormalising_allocates_nothing():
    s, hs = _loaded(CfsPolicy())
    p = s.policy
    for h in hs:
        h._live_slot().pol.vruntime += (1 << 29) - 500
    p.min_vruntime += (1 << 29) - 500
    heap_locked(_ticks, s, 30)
    assert p.min_vruntime < (1 << 28) + 100000  # shifted down by 2**28
    for h in hs:
        h._live_slot().pol.vruntime += (1 << 29) - 500
    p.min_vruntime += (1 << 29) - 500
    assert alloc_delta(_ticks, s, 30) == 0
    assert p.min_vruntime < (1 << 28) + 100000  # shifted down by 2**28


@micropython_only
def test_priority_fifo_and_round_robin_allocate_nothing():
    prios = [1, 1, 2, 0, 3, 1, 2, 0, 4, 4, 5, 6]
    s, _ = _loaded(PriorityPolicy(), prios)
    _check(s)
    s, _ = _loaded(PriorityPolicy(slice_us=70, hog_us=60), prios)
    _check(s)


def _lend_and_restore(p, slots, n):
    holder = slots[0]
    waiter = slots[1]
    for i in range(n):
        p.inherit(holder, waiter)
        p.set_priority(slots[2], i & 3)
        p.restore(holder)


@micropython_only
def test_inheritance_and_set_priority_allocate_nothing():
    s, hs = _loaded(PriorityPolicy(), [0, 1, 6, 0, 0, 0, 0, 0, 2, 2, 2, 3])
    p = s.policy
    slots = [hs[0]._live_slot(), hs[2]._live_slot(), hs[1]._live_slot()]
    heap_locked(_lend_and_restore, p, slots, 10)
    assert alloc_delta(_lend_and_restore, p, slots, 10) == 0
    s, hs = _loaded(CfsPolicy(), [5, 0, -10, 0, 0, 0, 0, 0, 2, 2, 2, 3])
    p = s.policy
    slots = [hs[0]._live_slot(), hs[2]._live_slot(), hs[1]._live_slot()]
    heap_locked(_lend_and_restore, p, slots, 10)
    assert alloc_delta(_lend_and_restore, p, slots, 10) == 0


def _frame_bytes(fn, *args):
    # Bytes ever allocated during the call (micropython.mem_total): a bytecode function whose
    # locals and stack pass 11 words gets its frame from the heap and frees it on return,
    # which neither heap_lock (it then falls back to the C stack) nor a gc.mem_alloc() delta
    # can see. What calling through ``fn(*args)`` costs itself is measured on a no-op of the
    # same arity and taken off.
    import micropython

    before = micropython.mem_total()
    fn(*args)
    spent = micropython.mem_total() - before
    before = micropython.mem_total()
    _noop(*args)
    return spent - (micropython.mem_total() - before)


def _noop(a=None, b=None):
    pass


def _needs_mem_total(fn):
    import micropython

    # under CPython the test is left to micropython_only, which pytest reports as a skip (a
    # _Skipped object there is not collected at all: pytest only warned)
    if sys.implementation.name != "micropython" or hasattr(micropython, "mem_total"):
        return fn
    return _Skipped(fn, "needs micropython.mem_total (a build with MICROPY_MEM_STATS)")


@micropython_only
@_needs_mem_total
def test_policy_poll_paths_take_no_heap_frames():
    for policy in (RoundRobinPolicy(500), PriorityPolicy(slice_us=500), CfsPolicy()):
        clk = FakeClock()
        s = StaticScheduler(4, policy=policy, clock_us=clk.now)

        async def spin():
            while True:
                await yield_now()

        for _ in range(3):
            s.spawn(spin())
        s.tick()
        slot = policy.pick()
        seen = [
            ("charge", _frame_bytes(policy.charge, slot, 5)),
            ("record", _frame_bytes(policy.stats.record, slot, 5)),
            ("remove (not queued)", _frame_bytes(policy.remove, slot)),
        ]
        seen.append(("put_back", _frame_bytes(policy.put_back, slot, False)))
        slot = policy.pick()
        seen.append(("put_back preempted", _frame_bytes(policy.put_back, slot, True)))
        seen.append(("pick", _frame_bytes(policy.pick)))
        seen.append(("add", _frame_bytes(policy.add, slot)))
        assert seen == [(what, 0) for what, _ in seen], (policy.name, seen)
