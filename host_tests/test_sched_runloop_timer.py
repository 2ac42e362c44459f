# The run loop (shimeji.sched.runloop) with the real Timer: sleepers wake on their tick across
# the clock's 2**30 wrap, its steps allocate nothing, and run() makes a timer when given none.
from shimeji import StaticScheduler
from shimeji.sched.runloop import RunLoop, run
from support import alloc_delta, heap_locked, micropython_only


def _timed_setup():
    from shimeji import FakeClock as TimerClock
    from shimeji import Timer

    clock = TimerClock((1 << 30) - 2500)  # the run crosses the 2**30 wrap
    timer = Timer(clock)
    events = []

    def idle(us):
        events.append(("idle", us))
        clock.advance_us(us)

    return clock, timer, events, idle


def test_with_the_real_timer_sleepers_wake_on_their_tick():
    from shimeji import sleep_ms

    clock, timer, events, idle = _timed_setup()
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=idle, max_idle_us=100000)

    async def sleeper(name, ms, times):
        for _ in range(times):
            await sleep_ms(ms)
            events.append((name, timer.now()))

    async def main():
        a = s.spawn(sleeper("a", 2, 3), "a")
        b = s.spawn(sleeper("b", 3, 2), "b")
        await a
        await b
        return "ok"

    assert loop.run(s.spawn(main())) == "ok"
    assert [e for e in events if e[0] != "idle"] == [
        ("a", 2), ("b", 3), ("a", 4), ("b", 6), ("a", 6)]  # same tick: armed first, first
    assert [e for e in events if e[0] == "idle"] == [
        ("idle", 2000), ("idle", 1000), ("idle", 1000), ("idle", 2000)]


def _run_steps(loop, n):
    for _ in range(n):
        loop.step()


@micropython_only
def test_steps_with_the_real_timer_allocate_nothing():
    from shimeji import sleep_ms

    clock, timer, events, idle = _timed_setup()
    s = StaticScheduler(8, timer=timer)
    idled = [0]

    def count_idle(us):
        idled[0] += 1
        clock.advance_us(us)

    loop = RunLoop(s, idle=count_idle, max_idle_us=1000)

    async def sleeper(ms):
        while True:
            await sleep_ms(ms)

    for ms in (1, 2, 3, 5, 7):
        s.spawn(sleeper(ms))
    _run_steps(loop, 50)
    heap_locked(_run_steps, loop, 100)
    assert alloc_delta(_run_steps, loop, 100) == 0
    assert idled[0] > 0


def test_ready_made_run_makes_a_timer_so_tasks_can_sleep():
    from shimeji import sleep_ms

    async def main():
        await sleep_ms(1)
        return "slept"

    assert run(main()) == "slept"
