# An interrupt-level task preempts a thread-level task that computes without yielding: a
# second thread (hosted ports) or a hardware timer (boards) plays the interrupt handler and
# wakes it while the thread-level task is inside a loop of at least 50 ms. On MicroPython the
# level runs inside that loop (at a check point); CPython's stand-in cannot preempt a poll and
# runs it right after the poll.
import time

from shimeji import InterruptScheduler, StaticScheduler, WaitCell, current_task, port
from support import IS_MICROPYTHON


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def _hosted(fn):
    # A second thread plays the interrupt handler on the unix port and CPython; a board uses
    # its hardware timer (the next test). The RP2040 emulator has no second core for _thread.
    import sys

    if not IS_MICROPYTHON or sys.platform in ("linux", "darwin"):
        return fn
    from support import _Skipped

    return _Skipped(fn, "a _thread plays the interrupt on hosted ports; boards: the next test")


@_hosted
def test_an_interrupt_level_task_runs_inside_a_50_ms_loop_that_never_yields():
    import _thread

    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    cell = WaitCell()
    log = []
    state = {"in_loop": False, "started": False, "fired": False}

    async def urgent():
        await cell.wait()
        log.append(("urgent", current_task().name, state["in_loop"]))

    def interrupt_source():
        for _ in range(20000):  # bounded: a hog that never started leaves no thread behind
            if state["started"]:
                break
            _sleep_ms(1)
        _sleep_ms(10)
        cell.wake()  # what a pin or timer interrupt handler would call
        state["fired"] = True

    async def hog():
        log.append(("hog start", current_task().name))
        state["in_loop"] = True
        state["started"] = True
        t0 = port.ticks_ms()
        n = 0
        # at least 50 ms, and until the interrupt came (a loaded machine may delay the thread)
        while port.ticks_diff(port.ticks_ms(), t0) < 50 or (
            not state["fired"] and port.ticks_diff(port.ticks_ms(), t0) < 5000
        ):
            n += 1
        state["in_loop"] = False
        log.append(("hog end", current_task().name, n > 0))

    isr.spawn(urgent(), "urgent")
    port.check_point()
    _thread.start_new_thread(interrupt_source, ())
    h = sched.spawn(hog(), "hog")
    while not h.is_complete():
        sched.tick()
    for _ in range(100):
        if isr.tasks() == []:
            break
        port.check_point()
        _sleep_ms(1)
    assert state["fired"]
    if IS_MICROPYTHON:
        assert log == [("hog start", "hog"), ("urgent", "urgent", True), ("hog end", "hog", True)]
    else:
        assert log == [("hog start", "hog"), ("hog end", "hog", True), ("urgent", "urgent", False)]
    assert isr.error is None and isr.tasks() == []


def _needs_machine_timer(fn):
    try:
        import machine

        if hasattr(machine, "Timer"):
            return fn
    except ImportError:
        pass
    if IS_MICROPYTHON:
        from support import _Skipped

        return _Skipped(fn, "needs machine.Timer (a board: rp2040, esp32, stm32)")
    import pytest

    return pytest.mark.skip(reason="needs machine.Timer (a board: rp2040, esp32, stm32)")(fn)


@_needs_machine_timer
def test_a_hardware_timer_interrupt_preempts_a_50_ms_loop():
    import sys

    import machine

    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    cell = WaitCell()
    log = []
    state = {"in_loop": False, "fired": False}

    async def urgent():
        await cell.wait()
        log.append(("urgent", current_task().name, state["in_loop"]))

    def on_timer(t):  # the hardware timer's interrupt: an ISR-safe wake only
        cell.wake()
        state["fired"] = True

    async def hog():
        log.append(("hog start", current_task().name))
        state["in_loop"] = True
        # the ESP32 port has no virtual timer: it needs a hardware timer's id (0 is group 0's
        # first, which no board module here holds during this test)
        ids = (0,) if sys.platform == "esp32" else ()
        timer = machine.Timer(*ids, mode=machine.Timer.ONE_SHOT, period=10, callback=on_timer)
        t0 = port.ticks_ms()
        while port.ticks_diff(port.ticks_ms(), t0) < 50 or (
            not state["fired"] and port.ticks_diff(port.ticks_ms(), t0) < 5000
        ):
            pass
        state["in_loop"] = False
        timer.deinit()
        log.append(("hog end", current_task().name))

    isr.spawn(urgent(), "urgent")
    port.check_point()
    h = sched.spawn(hog(), "hog")
    while not h.is_complete():
        sched.tick()
    assert log == [("hog start", "hog"), ("urgent", "urgent", True), ("hog end", "hog")]
    assert isr.error is None and isr.tasks() == []
