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
time.sleep_ms(100)
print('ready', bg.running)
"""


def test_pull_and_top_over_mpremote(tmp_path):
    board = vboard.VirtualBoard(tempfile.mkdtemp(prefix="shimeji-vboard-")).start()
    try:
        device.deploy(board.path, out=lambda line: None)
        assert "ready True" in device.mpremote(board.path, "exec", SETUP, timeout=TIMEOUT_S)
        # top() on the board, twice, while the background loop runs the task
        out = device.mpremote(board.path, "exec", "from shimeji.trace import top\n"
                              "top(bg, interval_ms=200, count=2, clear=False)",
                              timeout=TIMEOUT_S)
        rows = [line.split() for line in out.splitlines() if " spinner " in line]
        assert len(rows) == 2 and rows[0][:2] == ["1", "spinner"]
        assert rows[0][2] in ("waiting", "queued", "running")
        assert int(rows[1][4]) > int(rows[0][4])  # polls went on between the refreshes
        assert int(rows[1][-2]) > 0  # wakes, counted by the trace
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
