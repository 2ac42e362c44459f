# Running a scheduler behind the REPL (shimeji.sched.background): the hardware-timer way and the
# thread way, with a stand-in board. Both runtimes.
import time

from gate import Gate
from shimeji import FakeClock, StaticScheduler, Timer, yield_now
from shimeji.platform.bsp import BoardBase, PinLed
from shimeji.sched import background as bgmod
from shimeji.sched.background import ThreadBackground, TimerBackground
from shimeji.sched.runloop import RunLoop
from support import alloc_delta, heap_locked, micropython_only, needs_threads


class FakeBoard(BoardBase):
    NAME = "fake"

    def __init__(self):
        BoardBase.__init__(self)
        self.events = []
        self.callback = None

    def start_ticker(self, callback):
        self.events.append("ticker on")
        self.callback = callback

    def stop_ticker(self):
        self.events.append("ticker off")
        self.callback = None

    def idle(self, us):
        time.sleep(0.0002)


def _settle():
    # MicroPython runs scheduled callbacks at the VM's next check point (a backward jump).
    for _ in range(20):
        pass


def _setup():
    clock = FakeClock()
    timer = Timer(clock)
    sched = StaticScheduler(4, timer=timer)
    board = FakeBoard()
    return clock, timer, sched, board


async def counter(box, n):
    for _ in range(n):
        box[0] += 1
        await yield_now()
    return box[0]


def test_timer_background_steps_once_per_hardware_tick():
    clock, timer, sched, board = _setup()
    bg = TimerBackground(board, RunLoop(sched, tick_size=1))
    assert bg.start() is bg and board.events == ["ticker on"]
    box = [0]
    h = bg.spawn(counter(box, 3), "c")
    for _ in range(3):
        board.callback(None)  # the hardware timer fires
        _settle()
    assert box[0] == 3 and bg.steps == 3 and timer.pending is False
    board.callback(None)
    _settle()
    assert h.result() == 3 and bg.tasks() == []
    assert bg.stop() is True and board.events == ["ticker on", "ticker off"]
    assert not bg.running


def test_timer_background_skips_steps_while_the_repl_holds_it():
    clock, timer, sched, board = _setup()
    bg = TimerBackground(board, RunLoop(sched, tick_size=1)).start()
    box = [0]
    bg.spawn(counter(box, 10), "c")

    def fire_while_held():
        board.callback(None)
        _settle()
        return box[0]

    assert bg.call(fire_while_held) == 0  # held off: the step was skipped
    assert bg.steps == 0 and timer.interrupts == 1  # but the timer still learnt time passed
    board.callback(None)
    _settle()
    assert box[0] == 1
    bg.stop()


def test_timer_background_wakes_sleepers_as_time_passes():
    clock, timer, sched, board = _setup()
    bg = TimerBackground(board, RunLoop(sched)).start()
    woke = []

    async def sleeper():
        from shimeji import sleep_ms

        await sleep_ms(3)
        woke.append(timer.now())

    bg.spawn(sleeper(), "s")
    board.callback(None)
    _settle()
    for _ in range(3):
        clock.advance(1)
        board.callback(None)
        _settle()
    assert woke == [3]
    bg.stop()


def test_an_error_in_the_loop_stops_the_background_and_is_kept():
    clock, timer, sched, board = _setup()
    loop = RunLoop(sched)

    def broken(n=0):
        raise RuntimeError("broken policy")

    loop._tick = broken
    bg = TimerBackground(board, loop).start()
    board.callback(None)
    _settle()
    assert isinstance(bg.error, RuntimeError) and not bg.running
    assert board.events == ["ticker on", "ticker off"]


@micropython_only
def test_timer_background_interrupt_allocates_nothing():
    clock, timer, sched, board = _setup()
    bg = TimerBackground(board, RunLoop(sched)).start()
    g = Gate()

    async def waiter():
        await g

    sched.spawn(waiter())
    irq = board.callback
    irq(None)
    _settle()
    heap_locked(irq, None)
    _settle()
    assert alloc_delta(irq, None) == 0
    _settle()
    bg.stop()


def _wait_for(cond, limit_s=10.0):
    waited = 0.0
    while not cond() and waited < limit_s:
        time.sleep(0.002)
        waited += 0.002
    return cond()


@needs_threads
def test_thread_background_runs_tasks_while_this_thread_is_free():
    clock, timer, sched, board = _setup()
    bg = ThreadBackground(board, RunLoop(sched, max_idle_us=200))
    bg.start()
    assert board.events == ["ticker on"]  # the scheduler has a timer: its ticker drives it
    box = [0]
    h = bg.spawn(counter(box, 50), "c")
    assert _wait_for(h.is_complete)
    assert h.result() == 50 and bg.tasks() == []
    assert bg.stop() is True and not bg.running
    assert board.events == ["ticker on", "ticker off"]
    steps = bg.steps
    box2 = [0]
    sched.spawn(counter(box2, 5), "after")
    time.sleep(0.01)
    assert box2[0] == 0 and bg.steps == steps  # stopped means stopped
    sched.close()


def test_pin_led_drives_the_pin():
    class Pin:
        def __init__(self):
            self.values = []

        def value(self, v):
            self.values.append(v)

    p = Pin()
    led = PinLed(p)
    led.on()
    led.toggle()
    led.toggle()
    assert led.value() is True
    low = PinLed(Pin(), active_high=False)
    low.on()
    assert p.values == [0, 1, 0, 1] and low.pin.values == [1, 0]


# the timer-driven background loop survives a full micropython.schedule queue.
class Board:
    def __init__(self):
        self.callback = None

    def start_ticker(self, callback):
        self.callback = callback

    def stop_ticker(self):
        self.callback = None


class FakeMicropython:
    """``schedule`` refuses while ``full`` (MicroPython raises RuntimeError then), else
    keeps the callback for ``run()``."""

    def __init__(self):
        self.full = False
        self.queue = []

    def schedule(self, fn, arg):
        if self.full:
            raise RuntimeError("schedule queue full")
        self.queue.append((fn, arg))

    def run(self):
        q = self.queue
        self.queue = []
        for fn, arg in q:
            fn(arg)


def test_a_full_schedule_queue_does_not_stop_the_background_loop():
    fake = FakeMicropython()
    real = bgmod.micropython
    bgmod.micropython = fake
    try:
        s = StaticScheduler(2)
        board = Board()
        bg = TimerBackground(board, RunLoop(s, tick_size=1)).start()
        box = [0]

        async def counter():
            for _ in range(3):
                box[0] += 1
                await yield_now()

        bg.spawn(counter())
        fake.full = True
        try:
            board.callback(None)  # the interrupt finds the queue full
        except RuntimeError:
            pass
        fake.full = False
        for _ in range(3):
            board.callback(None)
            fake.run()
        assert (box[0], bg.steps) == (3, 3)
        bg.stop()
    finally:
        bgmod.micropython = real
