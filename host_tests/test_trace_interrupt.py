# The interrupt level traced: an InterruptScheduler with its own Trace records its spawns,
# polls, parks and wakes (a wake from a thread-level task goes through its side ring), and a
# run of the level inside a thread-level task's poll records IRQ_PREEMPT (the task, the µs it
# was held up) in the thread-level trace, through that trace's side ring. One fake clock
# for both: the exact event lists. The level runs at the check point inside the poll on both
# runtimes (MicroPython's real one; CPython's stand-in, port.check_point).
from shimeji import (
    FakeClock,
    InterruptScheduler,
    StaticScheduler,
    Trace,
    WaitCell,
    port,
)
from shimeji.trace import kinds as K

START = 0x3FFFFFC0  # the ticks wrap during the run


class Lines:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


def rel(trace):
    return [((ts - START) & 0x3FFFFFFF, kind, task, arg) for ts, kind, task, arg in
            trace.records()]


def preempted_run():
    clk = FakeClock(START)
    level = InterruptScheduler(4, clock_us=clk)
    sched = StaticScheduler(4, clock_us=clk)
    ti = Trace(32).attach(level)
    tt = Trace(32).attach(sched)
    cell = WaitCell()
    log = []

    async def urgent():
        await cell.wait()
        clk.advance_us(40)
        log.append("urgent")

    async def hog():
        clk.advance_us(100)
        cell.wake()  # as an interrupt handler would: the level's callback is queued
        port.check_point()  # ... and runs here, inside this poll
        log.append("hog")
        clk.advance_us(100)

    hu = level.spawn(urgent(), "urgent")
    port.check_point()  # urgent's first poll: it parks on the cell
    clk.advance_us(10)
    hh = sched.spawn(hog(), "hog")
    sched.tick()
    for _ in range(10):
        level.service()
    assert log == ["urgent", "hog"]
    return ti, tt, hu.id, hh.id


def test_the_level_records_its_polls_and_the_wake_from_the_thread_level():
    ti, _, u, _ = preempted_run()
    assert rel(ti) == [
        (0, K.SPAWN, u, 0),
        (0, K.POLL_BEGIN, u, 0), (0, K.POLL_END, u, K.END_PARK), (0, K.PARK, u, K.PARK_OTHER),
        (110, K.WAKE_EXTERNAL, u, 0),  # from the thread-level task (its side ring)
        (110, K.POLL_BEGIN, u, 0), (150, K.POLL_END, u, K.END_DONE), (150, K.COMPLETE, u, 0),
    ]
    assert ti.dropped == 0 and ti.label == "interrupt level"


def test_the_preempted_poll_gets_an_irq_preempt_record():
    _, tt, _, h = preempted_run()
    assert rel(tt) == [
        (10, K.SPAWN, h, 0),
        (10, K.POLL_BEGIN, h, 0),
        (250, K.POLL_END, h, K.END_DONE),
        (250, K.COMPLETE, h, 0),
        # stamped when the level ended (it held the hog up 40 µs), moved from the side ring
        # after the poll's records (tools/trace.py sorts by time)
        (150, K.IRQ_PREEMPT, h, 40),
    ]
    assert tt.dropped == 0


def test_dumps_name_the_interrupt_level():
    ti, tt, _, _ = preempted_run()
    a, b = Lines(), Lines()
    ti.dump(a)
    tt.dump(b)
    assert a.text.splitlines()[0] == ("shimeji-trace 1 size=32 count=8 dropped=0 "
                                      "label=interrupt_level")
    assert b.text.splitlines()[0] == "shimeji-trace 1 size=32 count=5 dropped=0 label=scheduler"
