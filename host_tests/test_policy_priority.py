# PriorityPolicy: order, FIFO/round-robin among equals, preemption points, inheritance.
from gate import Gate
from shimeji import (
    BadPriority,
    PolicyError,
    PriorityPolicy,
    StaticScheduler,
    core,
    preempt_point,
    yield_now,
)
from shimeji.policy.base import fields_of
from shimeji.task.waitlist import WaitList
from support import FakeClock, raises


class TinyLock:
    """A test-local async lock that calls the policy's inheritance hooks the way the async
    Mutex does: ``inherit(holder, waiter)`` when a waiter parks, ``restore(holder)`` on
    release. ``await lock`` acquires; ``lock.release()`` hands over to the oldest waiter."""

    def __init__(self, lend=True):
        self.holder = None
        self.waiters = WaitList()
        self.lend = lend
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        me = core.current_slot()
        if self.holder is None:
            self.holder = me
        if self.holder is me:
            raise self._finish.done()
        if me.waiting_on is None:
            self.waiters.push(me)
            if self.lend:
                self.holder.sched.policy.inherit(self.holder, me)
        return core.PARK

    def release(self):
        holder = self.holder
        if self.lend:
            holder.sched.policy.restore(holder)
        nxt = self.waiters.pop()
        self.holder = nxt
        if nxt is not None:
            w = self.waiters.head
            while w is not None and self.lend:
                nxt.sched.policy.inherit(nxt, w)
                w = w.wait_next
            core.wake(nxt)


def drain(s, limit=1000):
    n = 0
    while n < limit and s.tick(1).polled:
        n += 1
    return n


def spawn(s, prio, coro):
    return s.build_task().priority(prio).spawn(coro)


def test_higher_priority_first_fifo_among_equals():
    s = StaticScheduler(8, policy=PriorityPolicy())
    ev = []

    async def run(name):
        for _ in range(2):
            ev.append(name)
            await yield_now()

    for name, prio in (("a1", 1), ("c3", 3), ("b2", 2), ("d3", 3), ("e0", 0)):
        spawn(s, prio, run(name))
    drain(s)
    assert ev == ["c3", "d3", "c3", "d3", "b2", "b2", "a1", "a1", "e0", "e0"]


def test_thirty_levels_through_the_bitmap():
    s = StaticScheduler(12, policy=PriorityPolicy(levels=30))
    ev = []

    async def run(p):
        ev.append(p)

    prios = [0, 7, 8, 15, 16, 23, 24, 29, 3, 17, 9]
    for p in prios:
        spawn(s, p, run(p))
    drain(s)
    assert ev == sorted(prios, reverse=True)


def test_set_priority_requeues_a_queued_task():
    s = StaticScheduler(8, policy=PriorityPolicy(default=1))
    ev = []

    async def run(name):
        ev.append(name)

    a = s.spawn(run("A"))
    s.spawn(run("B"))
    c = s.spawn(run("C"))
    assert s.set_priority(c, 2) is True
    assert s.set_priority(a, 0) is True
    drain(s)
    assert ev == ["C", "B", "A"]


def test_round_robin_among_equals():
    clk = FakeClock()
    s = StaticScheduler(4, policy=PriorityPolicy(slice_us=1000), clock_us=clk.now)
    ev = []

    async def work(name, n):
        for _ in range(n):
            clk.advance(300)
            ev.append(name)
            await preempt_point()

    spawn(s, 2, work("A", 6))
    spawn(s, 2, work("B", 6))
    spawn(s, 0, work("C", 2))
    drain(s)
    assert "".join(ev) == "AAAABBBBAABBCC"


def test_preempt_point_yields_to_a_woken_urgent_task_and_keeps_the_front():
    s = StaticScheduler(4, policy=PriorityPolicy())
    g = Gate()
    low = Gate()
    ev = []

    async def urgent():
        await g
        ev.append("H")

    async def background():
        await low
        ev.append("bg")

    async def long_job():
        for i in range(5):
            ev.append("L1:%d" % i)
            if i == 1:
                low.open()  # a less urgent wake: no reason to yield
            if i == 2:
                g.open()  # the urgent task is woken (it sits in the inbox)
            await preempt_point()

    async def peer():
        ev.append("L2")

    spawn(s, 4, urgent())
    spawn(s, 0, background())
    s.tick()
    spawn(s, 1, long_job())
    spawn(s, 1, peer())
    drain(s)
    assert ev == ["L1:0", "L1:1", "L1:2", "H", "L1:3", "L1:4", "L2", "bg"]


def _inversion(lend, holder_parks):
    s = StaticScheduler(4, policy=PriorityPolicy())
    lock = TinyLock(lend)
    gh, gm, gl = Gate(), Gate(), Gate()
    ev = []

    async def low():
        await lock
        ev.append("L:got")
        gh.open()
        if holder_parks:
            await gl
        else:
            gm.open()
            await yield_now()
        ev.append("L:release")
        lock.release()
        assert core.current_slot().priority == 1
        await yield_now()
        ev.append("L:done")

    async def high():
        await gh
        ev.append("H:wait")
        await lock
        ev.append("H:got")
        lock.release()

    async def mid():
        await gm
        ev.append("M")

    hl = spawn(s, 1, low())
    spawn(s, 5, high())
    spawn(s, 3, mid())
    s.tick(2)  # high and mid park
    drain(s)
    if holder_parks:
        assert hl._live_slot().priority == (5 if lend else 1)  # parked, holding, lent to
        gm.open()
        gl.open()
        drain(s)
    assert hl.is_complete() and hl._live_slot() is None
    return ev


def test_inheritance_lifts_a_queued_holder_until_release():
    assert _inversion(True, False) == ["L:got", "H:wait", "L:release", "H:got", "M", "L:done"]
    # Without the loan the middle task runs first: the inversion inheritance prevents.
    assert _inversion(False, False) == ["L:got", "H:wait", "M", "L:release", "H:got", "L:done"]


def test_inheritance_reaches_a_parked_holder():
    assert _inversion(True, True) == ["L:got", "H:wait", "L:release", "H:got", "M", "L:done"]
    assert _inversion(False, True) == ["L:got", "H:wait", "M", "L:release", "H:got", "L:done"]


def test_inherit_and_restore_keep_the_own_priority():
    p = PriorityPolicy()
    s = StaticScheduler(4, policy=p)

    async def idle():
        await yield_now()

    a = spawn(s, 2, idle())._live_slot()
    b = spawn(s, 6, idle())._live_slot()
    p.inherit(a, b)
    assert (a.priority, a.base_priority, a.inherited, a.pol.queue_pos) == (6, 2, 6, 6)
    p.set_priority(a, 3)  # changing the own priority under a loan keeps the loan
    assert (a.priority, a.base_priority) == (6, 3)
    p.set_priority(a, 7)  # ...unless the own priority is higher
    assert a.priority == 7
    p.restore(a)
    assert (a.priority, a.inherited, a.pol.queue_pos) == (7, None, 7)
    p.inherit(b, a)
    p.restore(b)
    assert (b.priority, b.inherited) == (6, None)
    drain(s)


def test_bad_priorities_and_levels():
    for bad in (0, 31, "8", None):
        with raises(PolicyError, "levels"):
            PriorityPolicy(levels=bad)
    with raises(BadPriority, "from 0 (least urgent) to 7"):
        PriorityPolicy(default=8)
    with raises(PolicyError, "time slice"):
        PriorityPolicy(slice_us=0)
    s = StaticScheduler(2, policy=PriorityPolicy(levels=4))
    ev = []

    async def run():
        ev.append(core.current_slot().priority)

    h = spawn(s, 2, run())
    for bad in (-1, 4, "1", 1.0):
        with raises(BadPriority, "more levels"):
            s.set_priority(h, bad)
    refused = run()
    with raises(BadPriority):
        s.build_task().priority(9).spawn(refused)  # refused before it spawns anything
    refused.close()
    drain(s)
    assert sorted(ev) == [2]


def test_a_reused_slot_starts_at_the_default():
    s = StaticScheduler(1, policy=PriorityPolicy(default=2))
    seen = []

    async def run():
        seen.append(core.current_slot().priority)

    spawn(s, 6, run())
    drain(s)
    s.spawn(run())
    drain(s)
    assert seen == [6, 2]


def test_a_loan_from_another_policy_is_capped():
    p = PriorityPolicy(levels=4)
    s = StaticScheduler(2, policy=p)

    async def idle():
        await yield_now()

    a = spawn(s, 1, idle())._live_slot()
    other = StaticScheduler(1, policy=PriorityPolicy(levels=30))
    w = other.build_task().priority(20).spawn(idle())._live_slot()
    p.inherit(a, w)
    assert (a.priority, a.pol.queue_pos) == (3, 3)
    p.restore(a)
    assert a.priority == 1
    drain(s)
    drain(other)


def _lcg(x):
    return (x * 1103515245 + 12345) & 0x7FFFFFFF


def test_level_queues_against_a_model():
    from shimeji import TaskSlot

    p = PriorityPolicy(levels=20)
    StaticScheduler(2, policy=p)
    slots = [TaskSlot() for _ in range(16)]
    for i, sl in enumerate(slots):
        sl.id = i + 1
        fields_of(sl)  # (a caller's slot: add() would make them; the model reads them first)
    model = [[] for _ in range(20)]  # FIFO per level
    x = 11
    for _ in range(3000):
        x = _lcg(x)
        op = x % 5
        queued = [sl for sl in slots if sl.pol.queue_pos >= 0]
        free = [sl for sl in slots if sl.pol.queue_pos < 0]
        if op == 0 and free:
            sl = free[(x >> 4) % len(free)]
            p.add(sl)
            model[sl.priority].append(sl)
        elif op == 1 and queued:
            sl = queued[(x >> 4) % len(queued)]
            model[sl.priority].remove(sl)
            assert p.remove(sl) is True
        elif op == 2 and queued:
            sl = queued[(x >> 4) % len(queued)]
            old = sl.priority
            p.set_priority(sl, (x >> 8) % 20)
            if sl.priority != old:  # a change re-queues at the back of the new level
                model[old].remove(sl)
                model[sl.priority].append(sl)
        elif op == 3 and queued:
            a = queued[(x >> 4) % len(queued)]
            b = slots[(x >> 9) % len(slots)]
            old = a.priority
            if (x >> 12) & 1:
                p.inherit(a, b)
            else:
                p.restore(a)
            if a.priority != old:
                model[old].remove(a)
                model[a.priority].append(a)
        else:
            got = p.pick()
            want = None
            for level in range(19, -1, -1):
                if model[level]:
                    want = model[level].pop(0)
                    break
            assert got is want
        for level in range(20):
            assert ((p.bits >> level) & 1) == (1 if model[level] else 0)
    assert p.has_ready() == any(model)


def test_round_robin_yields_to_an_equal_task_woken_during_the_poll():
    clk = FakeClock()
    s = StaticScheduler(4, policy=PriorityPolicy(slice_us=1000), clock_us=clk.now)
    g = Gate()
    ev = []

    async def peer():
        await g
        ev.append("P")

    async def work():
        for i in range(6):
            clk.advance(300)
            ev.append("W")
            if i == 0:
                g.open()  # the equal peer is only in the wake inbox during this poll
            await preempt_point()

    spawn(s, 2, peer())
    s.tick()
    spawn(s, 2, work())
    drain(s)
    assert "".join(ev) == "WWWWPWW"
