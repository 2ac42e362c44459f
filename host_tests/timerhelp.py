"""What the timer tests share: a fake clock, a timer and a scheduler (``make``), a loop that
drives them in fake time (``drive``), and a sleeper that records how long each sleep took."""
from shimeji import FakeClock, StaticScheduler, Timer, sleep_ms

MASK = (1 << 30) - 1


def make(start_us=0, tick_us=1000, capacity=8):
    clock = FakeClock(start_us, tick_us)
    timer = Timer(clock, tick_us)
    return clock, timer, StaticScheduler(capacity, timer=timer)


def drive(clock, timer, sched, step_us, total_us):
    """The run loop: turn, tick, then let ``step_us`` of fake time pass."""
    spent = 0
    while spent <= total_us:
        timer.turn()
        sched.tick()
        clock.advance_us(step_us)
        spent += step_us


def since(clock, start):
    return (clock() - start) & MASK


async def sleeper(log, clock, name, ms, times):
    for _ in range(times):
        start = clock()
        await sleep_ms(ms)
        log.append((name, since(clock, start)))
