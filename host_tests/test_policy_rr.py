# RoundRobinPolicy: slices charged from a fake µs clock, FIFO turns, front/back on put_back.
from gate import Gate
from shimeji import (
    PolicyError,
    RoundRobinPolicy,
    StaticScheduler,
    TaskSlot,
    port,
    preempt_due,
    preempt_point,
    yield_now,
)
from support import FakeClock, raises


def drain(s, limit=1000):
    n = 0
    while n < limit and s.tick(1).polled:
        n += 1
    return n


def ticks_period():
    # time.ticks_* wrap at 2**30 on boards and CPython, at 2**62 on the 64-bit unix port.
    return port.ticks_add(0, -1) + 1


def make(slice_us=1000, start=0, capacity=4):
    clk = FakeClock(start, ticks_period())
    return clk, StaticScheduler(capacity, policy=RoundRobinPolicy(slice_us), clock_us=clk.now)


def test_slices_rotate_tasks_at_preemption_points():
    clk, s = make()
    ev = []

    async def worker(name, n):
        for _ in range(n):
            clk.advance(300)  # 300 µs of work, then a preemption point
            ev.append(name)
            await preempt_point()

    for name in "ABC":
        s.spawn(worker(name, 6), name)
    assert drain(s) == 6  # turns of 4 iterations (1200 µs > slice), then 2 and done
    assert "".join(ev) == "AAAABBBBCCCCAABBCC"


def test_slices_survive_the_clock_wrap():
    clk, s = make(start=ticks_period() - 700)
    ev = []

    async def worker(name, n):
        for _ in range(n):
            clk.advance(300)
            ev.append(name)
            await preempt_point()

    for name in "AB":
        s.spawn(worker(name, 6), name)
    drain(s)
    assert "".join(ev) == "AAAABBBBAABB"


def test_alone_a_task_is_not_made_to_yield():
    clk, s = make()
    ev = []

    async def worker():
        for _ in range(10):
            clk.advance(300)
            ev.append("w")
            await preempt_point()

    h = s.spawn(worker())
    assert drain(s) == 1
    assert (len(ev), h.is_complete()) == (10, True)


def test_yield_now_goes_to_the_back_with_a_fresh_slice():
    clk, s = make()
    ev = []

    async def worker(name):
        for _ in range(3):
            clk.advance(100)
            ev.append(name)
            await yield_now()

    for name in "ABC":
        s.spawn(worker(name), name)
    drain(s)
    assert "".join(ev) == "ABCABCABC"


def test_put_back_preempted_with_slice_left_keeps_the_front():
    p = RoundRobinPolicy(1000)
    StaticScheduler(1, policy=p, clock_us=FakeClock().now)
    a, b = TaskSlot(), TaskSlot()
    a.id, b.id = 1, 2
    p.add(a)
    p.add(b)
    assert p.pick() is a
    assert p.charge(a, 200) is False
    p.put_back(a, True)  # preempted with 800 µs left: keeps its place
    assert (p.pick(), a.pol.slice_left) == (a, 800)
    assert p.charge(a, 900) is True
    p.put_back(a, True)  # slice used up: back of the queue, fresh slice
    assert (p.pick(), p.pick(), a.pol.slice_left) == (b, a, 1000)
    assert p.pick() is None and not p.has_ready()


def test_put_back_not_preempted_goes_to_the_back():
    p = RoundRobinPolicy(1000)
    StaticScheduler(1, policy=p, clock_us=FakeClock().now)
    a, b = TaskSlot(), TaskSlot()
    a.id, b.id = 1, 2
    p.add(a)
    p.add(b)
    assert p.pick() is a
    p.charge(a, 100)
    p.put_back(a, False)
    assert (p.pick(), p.pick(), a.pol.slice_left) == (b, a, 1000)


def test_remove_from_the_middle_and_close():
    p = RoundRobinPolicy(1000)
    StaticScheduler(1, policy=p, clock_us=FakeClock().now)
    slots = [TaskSlot() for _ in range(4)]
    for i, sl in enumerate(slots):
        sl.id = i + 1
        p.add(sl)
    assert p.remove(slots[1]) is True
    assert p.remove(slots[1]) is False  # not queued any more
    assert p.remove(slots[3]) is True
    assert (p.pick(), p.pick(), p.pick()) == (slots[0], slots[2], None)

    clk, s = make()
    g = Gate()

    async def forever():
        while True:
            await yield_now()

    async def parked():
        await g

    hs = [s.spawn(forever()), s.spawn(forever()), s.spawn(parked())]
    s.tick(2)
    g.open()  # the parked task sits in the inbox when close() runs
    s.close()
    assert [h.is_cancelled() for h in hs] == [True, True, True]
    assert not s.policy.has_ready()


def test_woken_task_queues_at_the_back():
    clk, s = make()
    g = Gate()
    ev = []

    async def sleeper():
        ev.append("s")
        await g
        ev.append("S")

    async def worker(name):
        for i in range(3):
            ev.append(name)
            if name == "A" and i == 0:
                g.open()
            await yield_now()

    s.spawn(sleeper())
    s.spawn(worker("A"))
    s.spawn(worker("B"))
    drain(s)
    # S, woken by A, goes behind B but ahead of A's own yield (asyncio's order)
    assert "".join(ev) == "sABSABAB"


def test_bad_slices_are_refused():
    for bad in (0, -1, "10", 1.5, None, 1 << 30):
        with raises(PolicyError, "time slice"):
            RoundRobinPolicy(bad)
    assert RoundRobinPolicy(1).slice_us == 1


def test_preempt_due_tells_without_yielding():
    clk, s = make()
    seen = []

    async def worker():
        for _ in range(5):
            clk.advance(300)
            seen.append(preempt_due())
        await preempt_point()
        seen.append("back")

    async def other():
        seen.append("other")

    s.spawn(worker())
    s.spawn(other())
    drain(s)
    assert seen == [False, False, False, True, True, "other", "back"]
    assert preempt_due() is False  # outside a task


def test_tasks_woken_during_a_slice_go_before_the_preempted_task():
    clk, s = make()
    g = Gate()
    ev = []

    async def sleeper():
        await g
        ev.append("S")

    async def work():
        for i in range(6):
            clk.advance(300)
            ev.append("W")
            if i == 0:
                g.open()  # the sleeper is in the wake inbox while W runs on
            await preempt_point()

    s.spawn(sleeper())
    s.tick()
    s.spawn(work())
    drain(s)
    assert "".join(ev) == "WWWWSWW"
