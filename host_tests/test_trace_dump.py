# Trace.dump writes the exact hex-line format tools/trace.py reads, to a stream or a file.
import os

from shimeji import FakeClock, StaticScheduler, Trace, yield_now
from shimeji.trace import ring


class Lines:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


async def two_polls():
    await yield_now()


def small_trace():
    clk = FakeClock(0x3FFFFFF0)  # near the wrap: the tool unwraps these ticks
    s = StaticScheduler(2, clock_us=clk)
    tr = Trace(16).attach(s)
    s.spawn(two_polls(), "pinger\nline")  # a newline in a name cannot break the format
    clk.advance_us(0x20)
    s.tick()
    tr.mark(0x1234)
    return tr


def test_dump_writes_header_names_records_and_end():
    out = Lines()
    small_trace().dump(out, label="core 0")
    assert out.text.split("\n") == [
        "shimeji-trace 1 size=16 count=7 dropped=0 label=core_0",
        "N 1 pinger line",
        "3ffffff0 1 1 0",  # SPAWN of task 1 by the run loop
        "10 2 1 0",  # POLL_BEGIN, the ticks wrapped
        "10 3 1 0",  # POLL_END, yielded
        "10 2 1 0",
        "10 3 1 3",  # POLL_END, done
        "10 8 1 0",  # COMPLETE
        "10 10 0 1234",  # MARK, outside a task
        "end",
        "",
    ]


def test_dump_to_a_file_and_the_last_attached_trace():
    tr = small_trace()
    assert ring.last is tr
    path = "trace_dump_test.txt"
    try:
        with open(path, "w") as f:
            tr.dump(f)
        with open(path) as f:
            lines = f.read().split("\n")
    finally:
        os.remove(path)
    assert lines[0] == "shimeji-trace 1 size=16 count=7 dropped=0 label=scheduler"
    assert lines[-2:] == ["end", ""] and len(lines) == 11
