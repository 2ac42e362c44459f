# The run loop skips the timer's turn after a tick while no timer entry is armed (it would only
# carry the clock's base forward), turns at least every 2**19 clock units anyway, and a sleep
# armed after turns were skipped is still on time (never early, at most a tick and the slack
# late), across the 2**30 wrap of the clock.
from shimeji import FakeClock, RunLoop, StaticScheduler, Timer, sleep_ms, yield_now


class CountingTimer(Timer):
    def __init__(self, clock):
        Timer.__init__(self, clock)
        self.turns = 0

    def turn(self):
        self.turns += 1
        return Timer.turn(self)


def _loop():
    clock = FakeClock((1 << 30) - 700000)  # the run crosses the wrap
    timer = CountingTimer(clock)
    s = StaticScheduler(4, timer=timer)

    def idle(us):
        clock.advance_us(us)

    return clock, timer, s, RunLoop(s, idle=idle, tick_size=1)


def _elapsed(a, b):
    return (b - a) & ((1 << 30) - 1)


def test_no_turn_while_nothing_is_armed_and_a_later_sleep_is_on_time():
    clock, timer, s, loop = _loop()
    events = []

    async def main():
        for _ in range(20):
            clock.advance_us(300)  # 6 ms in all, with nothing armed
            await yield_now()
        events.append(("turns while nothing was armed", timer.turns))
        t0 = clock()
        await sleep_ms(2)
        late = _elapsed(t0, clock()) - 2000
        events.append(("on time", 0 <= late <= 1000 + 64))
        turns = timer.turns
        clock.advance_us(600000)  # more than 2**19 µs with nothing armed: one turn
        await yield_now()
        await yield_now()
        events.append(("turns after 0.6 s", timer.turns - turns))
        t0 = clock()
        await sleep_ms(3)
        late = _elapsed(t0, clock()) - 3000
        events.append(("on time", 0 <= late <= 1000 + 64))

    loop.run(s.spawn(main()))
    assert events == [
        ("turns while nothing was armed", 0),
        ("on time", True),
        ("turns after 0.6 s", 1),
        ("on time", True),
    ]


def test_an_interrupt_request_still_turns():
    clock, timer, s, loop = _loop()
    events = []

    async def main():
        await yield_now()
        before = timer.turns
        timer.interrupt()  # a board's timer interrupt asks for a turn
        await yield_now()
        events.append(timer.turns - before)
        events.append(timer.pending)

    loop.run(s.spawn(main()))
    assert events == [1, False]
