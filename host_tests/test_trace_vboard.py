# shimeji: cpython-only (drives the MicroPython unix port on a pty with mpremote)
"""tools/trace.py against a virtual board: ``pull`` dumps the board's trace over mpremote and
converts it; ``top()`` prints the live table on the board while a background loop runs."""

import os
import shutil
import sys
import tempfile

import device
import vboard

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import trace as tool  # noqa: E402  (tools/trace.py)

TIMEOUT_S = 60

SETUP = """\
import shimeji_board
from shimeji import Trace, yield_now, sleep_ms
board = shimeji_board.Board()
sched = board.scheduler(8)
trace = Trace(256).attach(sched)
async def spin():
    while True:
        await yield_now()
        await sleep_ms(2)
bg = board.background(sched).start()
bg.spawn(spin(), 'spinner')
import time
for _ in range(1000):  # until the ring is full (the pull below checks all 256 records): 10 s
    if bg.call(lambda: len(trace)) == 256:
        break
    time.sleep_ms(10)
print('ready', bg.running, bg.call(lambda: len(trace)))
"""

# Two refreshes 200 ms apart; on a loaded machine the loop thread can be kept off the CPU for
# the whole interval (no poll between the refreshes), so the board repeats top() until the
# spinner was polled in between (bounded: 25 tries), printing each try after "attempt N".
TOP = """\
from shimeji.trace import top
for attempt in range(25):
    lines = []
    top(bg, interval_ms=200, count=2, clear=False, out=lines.append)
    print('attempt', attempt)
    print('\\n'.join(lines))
    polls = [int(line.split()[-6]) for line in lines if ' spinner ' in line]
    if polls[1] > polls[0]:
        break
"""


def _columns(line):
    """A row of top()'s table as [id, name, state, polls, cpu us, cpu%, max us, wakes, hogs]
    (numbers as ints): "waits on" is blank for a queued or running task, so the figures are
    counted from the right."""
    fields = line.split()
    figures = [int(f) if f.isdigit() else f for f in fields[-6:]]
    return fields[:3] + figures


def test_pull_and_top_over_mpremote(tmp_path):
    board = vboard.VirtualBoard(tempfile.mkdtemp(prefix="shimeji-vboard-")).start()
    try:
        device.deploy(board.path, out=lambda line: None)
        assert "ready True 256" in device.mpremote(board.path, "exec", SETUP, timeout=TIMEOUT_S)
        # top() on the board, two refreshes, while the background loop runs the task
        out = device.mpremote(board.path, "exec", TOP, timeout=TIMEOUT_S)
        tables = [[_columns(line) for line in t.splitlines() if " spinner " in line]
                  for t in out.split("attempt ")[1:]]
        assert tables and all(t[1][3] >= t[0][3] for t in tables), out  # polls add up
        rows = tables[-1]
        assert len(rows) == 2 and rows[0][:2] == ["1", "spinner"]
        assert rows[0][2] in ("waiting", "queued", "running")
        assert rows[1][3] > rows[0][3]  # polls went on between the refreshes
        assert rows[1][-2] > 0  # wakes, counted by the trace
        # pull: the board dumps its last attached trace (held off from the loop), the host
        # converts it
        text = tool.pull(board.path, "bg.call(trace.dump)")
        jpath, ppath = tool.convert(text, str(tmp_path), "board")
        sec = tool.parse(text)[0]
        assert sec.names == {1: "spinner"} and len(sec.records) == 256
        assert os.path.getsize(ppath) > 10000 and os.path.getsize(jpath) > 1000
        device.mpremote(board.path, "exec", "bg.stop()", timeout=TIMEOUT_S)
    finally:
        board.stop()
        shutil.rmtree(board.directory, ignore_errors=True)
