# shimeji: cpython-only (runs docs/timer.md's first block in fresh CPython and MicroPython
# processes, as test_docs_blocks does, with a clock that stalls)
"""docs/timer.md's first example holds on a loaded machine: its asserts pass when the loop
stalls (the process gets no CPU for a while), here a clock that jumps ahead once by as much
as such a stall, at a chosen moment. It failed once under load in the doc-block tests when
``main`` slept a fixed second and then counted the samples."""

import os
import tempfile

import pytest
from test_docs_blocks import RUNTIMES, _run, python_blocks

# Replaces the default clock (port.ticks_us, which Timer() reads) by one that jumps ahead by
# a stall's length the first time it is read a given time after its first read (the Timer's
# start): a stall of the loop, as load makes.
STALLING_CLOCK = """
from shimeji import port
_real = port.ticks_us
_t0 = [None]
_jumped = [0]
def _stalling_ticks_us():
    t = _real()
    if _t0[0] is None:
        _t0[0] = t
    if not _jumped[0] and port.ticks_diff(t, _t0[0]) >= %d:
        _jumped[0] = 1
    return port.ticks_add(t, %d) if _jumped[0] else t
port.ticks_us = _stalling_ticks_us
"""


def first_example():
    line, body = python_blocks("docs/timer.md")[0]
    assert "len(buf) == 50" in "\n".join(body)  # (the example this test is about)
    return body


@pytest.mark.parametrize("at_ms,stall_ms", [(100, 1500), (250, 600), (300, 900), (400, 2000)])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_docs_timer_example_holds_through_a_stall(runtime, at_ms, stall_ms):
    src = STALLING_CLOCK % (at_ms * 1000, stall_ms * 1000) + "\n".join(first_example()) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
        f.write(src)
    try:
        proc = _run(runtime, [f.name])
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, "stall of %d ms at %d ms on %s:\n%s%s" % (
        stall_ms, at_ms, runtime, proc.stdout[-2000:], proc.stderr[-3000:])
