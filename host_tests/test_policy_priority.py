# PriorityPolicy: order, FIFO/round-robin among equals, preemption points, the levels'
# queues against a model. Priority inheritance: test_policy_priority_inheritance.py.
from gate import Gate
from policyhelp import spawn_at, tick_each
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
from support import FakeClock, raises


def test_higher_priority_first_fifo_among_equals():
    s = StaticScheduler(8, policy=PriorityPolicy())
    ev = []

    async def run(name):
        for _ in range(2):
            ev.append(name)
            await yield_now()

    for name, prio in (("a1", 1), ("c3", 3), ("b2", 2), ("d3", 3), ("e0", 0)):
        spawn_at(s, prio, run(name))
    tick_each(s)
    assert ev == ["c3", "d3", "c3", "d3", "b2", "b2", "a1", "a1", "e0", "e0"]


def test_thirty_levels_through_the_bitmap():
    s = StaticScheduler(12, policy=PriorityPolicy(levels=30))
    ev = []

    async def run(p):
        ev.append(p)

    prios = [0, 7, 8, 15, 16, 23, 24, 29, 3, 17, 9]
    for p in prios:
        spawn_at(s, p, run(p))
    tick_each(s)
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
    tick_each(s)
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

    spawn_at(s, 2, work("A", 6))
    spawn_at(s, 2, work("B", 6))
    spawn_at(s, 0, work("C", 2))
    tick_each(s)
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

    spawn_at(s, 4, urgent())
    spawn_at(s, 0, background())
    s.tick()
    spawn_at(s, 1, long_job())
    spawn_at(s, 1, peer())
    tick_each(s)
    assert ev == ["L1:0", "L1:1", "L1:2", "H", "L1:3", "L1:4", "L2", "bg"]


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

    h = spawn_at(s, 2, run())
    for bad in (-1, 4, "1", 1.0):
        with raises(BadPriority, "more levels"):
            s.set_priority(h, bad)
    refused = run()
    with raises(BadPriority):
        s.build_task().priority(9).spawn(refused)  # refused before it spawns anything
    refused.close()
    tick_each(s)
    assert sorted(ev) == [2]


def test_a_reused_slot_starts_at_the_default():
    s = StaticScheduler(1, policy=PriorityPolicy(default=2))
    seen = []

    async def run():
        seen.append(core.current_slot().priority)

    spawn_at(s, 6, run())
    tick_each(s)
    s.spawn(run())
    tick_each(s)
    assert seen == [6, 2]


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

    spawn_at(s, 2, peer())
    s.tick()
    spawn_at(s, 2, work())
    tick_each(s)
    assert "".join(ev) == "WWWWPWW"
