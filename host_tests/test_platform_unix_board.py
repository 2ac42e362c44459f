# shimeji: host-only (tests boards/unix/shimeji_board.py; firmware freezes its own board module)
# The unix board module (boards/unix/shimeji_board.py) on both runtimes: its clock, idle and
# ticker work under CPython too (time there has no ticks_us), and its text LED writes whole
# lines, or draws on the terminal's top line while the loop runs behind the REPL.
import sys

sys.path.append(__file__.rsplit("/", 1)[0] + "/../boards/unix")

import shimeji_board  # noqa: E402

from shimeji import WaitCell, port, sleep_ms  # noqa: E402
from shimeji.platform.bsp import FOREVER_US, STATUS, TextLed  # noqa: E402
from shimeji.sched.runloop import sleep_idle  # noqa: E402


def test_clock_and_idle_work_on_this_runtime():
    board = shimeji_board.Board()
    t0 = board.ticks_us()
    board.idle(2000)
    assert port.ticks_diff(board.ticks_us(), t0) >= 1000


def test_tickless_by_default_run_sleeps_on_the_idle_timeout_without_a_ticker():
    board = shimeji_board.Board()
    assert board.tickless and board.tick_us == 1  # the timer counts µs
    sched = board.scheduler(4)
    spans = []

    async def napper():
        for _ in range(3):
            t0 = board.ticks_us()
            await sleep_ms(3)
            spans.append(port.ticks_diff(board.ticks_us(), t0))
        return board.ticker

    assert board.run(napper(), sched) is None  # no ticker thread ran
    assert len(spans) == 3 and min(spans) >= 3000  # never early
    assert board.loop.max_idle_us == FOREVER_US  # the wake socket ends an idle at once
    assert board.poller is None  # closed with the loop


def _counting_idle(board):
    calls = []
    inner = board.idle

    def idle(us):
        calls.append(us)
        inner(us)

    board.idle = idle
    return calls


def test_the_loop_idles_once_until_a_far_deadline():
    board = shimeji_board.Board()
    calls = _counting_idle(board)
    sched = board.scheduler(2)

    starts = []
    inner = board.idle

    def idle(us):
        starts.append(board.ticks_us())
        inner(us)

    board.idle = idle

    async def sleeper():
        t0 = board.ticks_us()
        starts.append(t0)
        await sleep_ms(300)
        return port.ticks_diff(board.ticks_us(), t0)

    assert board.run(sleeper(), sched) >= 300000  # never early
    # One wait, asked to last from when it began to the deadline (however late it began),
    # rounded up to the slack's grid (256 µs for a 300 ms sleep).
    assert sched.timer.slack_mask(300) == 255
    assert len(calls) == 1 and calls[0] < 300256
    assert port.ticks_diff(port.ticks_add(starts[1], calls[0]), starts[0]) >= 300000


def test_a_wake_from_another_thread_ends_the_idle_before_the_deadline():
    import _thread

    board = shimeji_board.Board()
    calls = _counting_idle(board)
    sched = board.scheduler(4)
    cell = WaitCell()
    events = []

    async def far_sleeper():
        await sleep_ms(60000)
        events.append("far sleeper woke")

    def press():
        sleep_idle(30000)  # 30 ms into the loop's idle
        cell.wake()

    async def waiter():
        far = sched.spawn(far_sleeper())
        _thread.start_new_thread(press, ())
        await cell.wait()
        # The loop idled towards the 60 s deadline; the wake ended that idle long before it.
        events.append(("woken", far.is_complete(), sched.timer.wheel.pending))
        far.cancel()
        return events

    assert board.run(waiter(), sched) == [("woken", False, 1)]
    assert len(calls) >= 1 and calls[0] > 59000000  # it did wait towards the far deadline


def test_without_the_wake_socket_an_idle_lasts_at_most_1_ms():
    board = shimeji_board.Board(wake_socket=False)
    calls = _counting_idle(board)
    sched = board.scheduler(2)

    async def sleeper():
        await sleep_ms(20)
        return board.poller

    assert board.run(sleeper(), sched) is None
    assert board.loop.max_idle_us == 1000
    # Each idle asks for at most 1 ms; how many a 20 ms sleep takes depends on how late the OS
    # wakes the process, so no count is asserted.
    assert calls and max(calls) <= 1000


def test_periodic_mode_drives_the_timer_with_the_ticker_thread():
    board = shimeji_board.Board(tickless=False)
    lines = []
    led = TextLed(out=lines.append, glyphs=("o", "*"))
    sched = board.scheduler(4)

    async def blink(n):
        for _ in range(n):
            led.toggle()
            await sleep_ms(5)
        return board.ticker is not None and board.ticker.running  # the "hardware timer"

    assert board.run(blink(4), sched) is True
    assert lines == ["LED *", "LED o", "LED *", "LED o"]
    assert board.ticker is None  # stopped again


def test_text_led_writes_one_whole_line_per_change():
    lines = []
    led = TextLed("L1", out=lines.append, glyphs=("off", "on"))
    led.on()
    led.on()  # no change, no line
    led.toggle()
    drawn = []
    led.write = drawn.append
    led.status_line = True
    led.toggle()
    assert lines == ["L1 on", "L1 off"]
    assert drawn == ["\x1b7\x1b[1;1HL1 on\x1b8"] and STATUS % "L1 on" == drawn[0]
    assert led.changes == 3 and led.value() is True


def test_board_leds_use_the_status_line_only_behind_the_repl():
    board = shimeji_board.Board()
    before = board.led()
    assert before.status_line is False
    sched = board.scheduler(4)
    bg = board.background(sched)
    try:
        during = board.led()
        assert before.status_line is True and during.status_line is True
    finally:
        assert bg.stop() is True
    assert before.status_line is False and during.status_line is False
    assert board.behind_repl is False


def _level_ends_idle(level_task):
    # The thread level awaits an Event that a task of the board's interrupt level sets, while
    # a far sleeper makes its loop idle in poll() towards a 60 s deadline. MicroPython runs the
    # level's scheduled callback only on the home thread at a check point, never inside
    # poll(): the level's wake must end that idle. Bounded: 5 s, then Timeout.
    from shimeji import Event, Timeout, timeout

    board = shimeji_board.Board()
    sched = board.scheduler(4)
    isr = board.interrupt_scheduler(4, sched)
    done = Event()
    isr.spawn(level_task(done))

    async def main():
        async def far_sleeper():
            await sleep_ms(60000)

        far = sched.spawn(far_sleeper())
        try:
            await timeout(done.wait(), 5000)
            return "level ran"
        except Timeout:
            return "the level did not run while the loop idled"
        finally:
            far.cancel()

    try:
        return board.run(main(), sched)
    finally:
        isr.close()


def test_an_interrupt_level_wake_from_another_thread_ends_the_loops_idle():
    import _thread

    cell = WaitCell()

    async def on_press(done):
        await cell.wait()
        done.set()

    def press():
        sleep_idle(30000)  # 30 ms into the loop's idle
        cell.wake()

    _thread.start_new_thread(press, ())
    assert _level_ends_idle(on_press) == "level ran"


def test_an_interrupt_level_sleep_ends_the_loops_idle():
    async def control(done):  # a control loop at the interrupt level: 5 sleeps of 2 ms
        for _ in range(5):
            await sleep_ms(2)
        done.set()

    assert _level_ends_idle(control) == "level ran"
