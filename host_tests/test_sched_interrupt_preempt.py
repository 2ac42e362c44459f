# An interrupt-level task preempts a thread-level task that computes without yielding: a
# second thread plays the interrupt handler and wakes it while the thread-level task is inside
# a loop of at least 50 ms. On MicroPython the level runs inside that loop (at a check point);
# CPython's stand-in cannot preempt a poll and runs it right after the poll.
import time

from shimeji import InterruptScheduler, StaticScheduler, WaitCell, current_task, port
from support import IS_MICROPYTHON, needs_threads


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


@needs_threads
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
        while not state["started"]:
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
