# The run loop (shimeji.sched.runloop): turn, tick, idle until the next deadline; stop; gc in idle.
# A stand-in timer with the Timer's turn() interface and a fake clock keep time out of the tests.
from gate import Gate
from shimeji import StaticScheduler, yield_now
from shimeji.sched.runloop import RunLoop, run
from support import FakeClock, alloc_delta, heap_locked, micropython_only


class FakeTurn:
    def __init__(self):
        self.now = 0
        self.expired = 0
        self.next_in_us = -1


class FakeTimer:
    """Deadlines in µs on a FakeClock; turn() opens the gates whose deadline has passed."""

    def __init__(self, clock, events):
        self.clock = clock
        self.events = events
        self.armed = []  # [deadline, gate]
        self._turn = FakeTurn()
        self.turns = 0

    def arm(self, after_us, gate):
        self.armed.append([self.clock.now() + after_us, gate])

    def turn(self):
        self.turns += 1
        now = self.clock.now()
        t = self._turn
        t.now = now
        t.expired = 0
        t.next_in_us = -1
        i = 0
        while i < len(self.armed):
            deadline, gate = self.armed[i]
            if deadline <= now:
                self.armed.pop(i)
                t.expired += 1
                self.events.append(("expired", now))
                gate.open()
            else:
                if t.next_in_us < 0 or deadline - now < t.next_in_us:
                    t.next_in_us = deadline - now
                i += 1
        return t


def _setup():
    events = []
    clock = FakeClock()
    timer = FakeTimer(clock, events)

    def idle(us):
        events.append(("idle", us))
        clock.advance(us)

    return events, clock, timer, idle


def test_idles_until_the_next_deadline_then_wakes_the_sleeper():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=10000)

    async def sleeper():
        for _ in range(2):
            g = Gate()
            timer.arm(2500, g)
            await g
            events.append(("woke", clock.now()))
        return "done"

    h = s.spawn(sleeper())
    assert loop.run(h) == "done"
    assert events == [
        ("idle", 2500), ("expired", 2500), ("woke", 2500),
        ("idle", 2500), ("expired", 5000), ("woke", 5000),
    ]
    assert loop.idles == 2 and not loop.running


def test_no_deadline_idles_at_most_max_idle_us():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=700)
    g = Gate()

    async def waiter():
        await g
        return 7

    h = s.spawn(waiter())
    loop.step()
    loop.step()
    g.open()  # as an interrupt handler would
    loop.step()
    assert h.result() == 7
    assert events == [("idle", 700), ("idle", 700), ("idle", 700)]


def test_a_deadline_armed_during_the_tick_is_seen_before_idling():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=100000)
    g = Gate()
    timer.arm(90000, Gate())  # a far deadline known before the tick

    async def task():
        timer.arm(300, g)  # an earlier one armed while the task runs
        await g

    s.spawn(task())
    loop.step()
    assert events == [("idle", 300)]


def test_no_idle_while_tasks_are_runnable():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, tick_size=1)

    async def spin(n):
        for _ in range(n):
            await yield_now()

    h = s.spawn(spin(5))
    loop.run(h)
    assert events == []
    assert loop.iterations == 6


def test_without_a_timer_idle_uses_max_idle_us():
    events = []
    s = StaticScheduler(2)
    loop = RunLoop(s, idle=lambda us: events.append(us), max_idle_us=250)
    g = Gate()

    async def waiter():
        await g

    s.spawn(waiter())
    loop.step()
    assert loop.turn() is None
    assert events == [250]


def test_stop_from_a_task_ends_run_and_tasks_keep_their_state():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, tick_size=1)  # stop() takes effect when the tick ends
    count = [0]

    async def counter():
        while True:
            count[0] += 1
            if count[0] == 3:
                loop.stop()
            await yield_now()

    h = s.spawn(counter())
    assert loop.run() is None
    assert count[0] == 3 and not h.is_complete()
    loop.stopping = False
    loop.step()
    assert count[0] == 4
    h.cancel()
    loop.step()
    assert h.is_cancelled()


def test_stop_before_idle_skips_the_idle():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(2, timer=timer)
    loop = RunLoop(s, idle=idle)

    async def stopper():
        loop.stop()
        await Gate()

    s.spawn(stopper())
    loop.run()
    assert events == [] and loop.iterations == 1


def test_collects_garbage_only_in_long_idle_windows_after_work():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=50000, collect=lambda: events.append("gc"),
                   collect_min_us=5000)

    async def task():
        for after in (1000, 20000, 20000):
            g = Gate()
            timer.arm(after, g)
            await g

    h = s.spawn(task())
    loop.run(h)
    assert events == [
        ("idle", 1000), ("expired", 1000),
        "gc", ("idle", 20000), ("expired", 21000),
        "gc", ("idle", 20000), ("expired", 41000),
    ]
    assert loop.collections == 2


def test_ctrl_c_in_a_collection_collects_again_then_propagates():
    # On the MicroPython unix port a KeyboardInterrupt raised out of gc.collect() leaves the
    # heap locked until the next collection ends: the demo's Ctrl-C then failed in its cleanup
    # with "MemoryError: heap is locked". The loop collects once more before it raises.
    events, clock, timer, idle = _setup()
    s = StaticScheduler(4, timer=timer)
    calls = []

    def collect():
        calls.append(len(calls))
        events.append("gc")
        if len(calls) == 1:
            raise KeyboardInterrupt

    loop = RunLoop(s, idle=idle, max_idle_us=50000, collect=collect, collect_min_us=5000)

    async def task():
        for after in (20000, 20000):
            g = Gate()
            timer.arm(after, g)
            await g
        return "done"

    h = s.spawn(task())
    try:
        loop.run(h)
    except KeyboardInterrupt:
        events.append("ctrl-c")
    assert events == ["gc", "gc", "ctrl-c"]
    assert loop.run(h) == "done"  # the loop and the task go on afterwards
    assert events == ["gc", "gc", "ctrl-c", ("idle", 20000), ("expired", 20000),
                      "gc", ("idle", 20000), ("expired", 40000)]
    assert calls == [0, 1, 2]


def test_no_collection_when_nothing_ran_since_the_last():
    events, clock, timer, idle = _setup()
    s = StaticScheduler(2, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=8000, collect=lambda: events.append("gc"),
                   collect_min_us=5000)

    async def waiter():
        await Gate()

    s.spawn(waiter())
    for _ in range(3):
        loop.step()
    assert events == ["gc", ("idle", 8000), ("idle", 8000)]


def test_ready_made_run_returns_mains_result():
    events, clock, timer, idle = _setup()

    async def main():
        g = Gate()
        timer.arm(40, g)
        await g
        return "main done"

    assert run(main(), timer=timer, idle=idle) == "main done"
    assert events == [("idle", 40), ("expired", 40)]


def test_ready_made_run_reraises_mains_error():
    async def main():
        raise ValueError("boom")

    try:
        run(main(), idle=lambda us: None)
    except ValueError as e:
        assert str(e) == "boom"
    else:
        raise AssertionError("expected ValueError")


def _steps(loop, n):
    for _ in range(n):
        loop.step()


@micropython_only
def test_step_with_idle_allocates_nothing():
    clock = FakeClock()
    timer = FakeTimer(clock, [])
    turn = FakeTurn()
    turn.next_in_us = 300

    def fixed_turn():
        return turn

    timer.turn = fixed_turn
    s = StaticScheduler(8, timer=timer)
    idled = [0]

    def idle(us):
        idled[0] += us

    loop = RunLoop(s, idle=idle)
    gates = [Gate() for _ in range(4)]

    async def waiter(g):
        while True:
            await g

    async def spinner():
        while True:
            await yield_now()

    for g in gates:
        s.spawn(waiter(g))
    _steps(loop, 2)
    heap_locked(_steps, loop, 20)
    assert alloc_delta(_steps, loop, 20) == 0
    assert idled[0] == 300 * 42
    s.spawn(spinner())
    loop.step()
    heap_locked(_steps, loop, 20)
    assert alloc_delta(_steps, loop, 20) == 0
    assert idled[0] == 300 * 42
    heap_locked(loop.stop)
    assert loop.stopping
