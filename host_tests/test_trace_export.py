# shimeji: cpython-only (tools/trace.py is a host tool: it runs on CPython, writes JSON and
# draws with matplotlib)
"""tools/trace.py: the trace-event JSON is valid (checked against the format's schema,
traceformat.py), its poll durations are the CPU time the scheduler recorded, wakes carry flow
arrows from the waker to the poll they caused, and the timeline PNG is drawn at the asked size.
Runs of more than one core or level: test_trace_export_cores.py."""

import io
import json
import os
import subprocess
import sys

import pytest

from shimeji import (
    Event,
    FakeClock,
    RoundRobinPolicy,
    StaticScheduler,
    Timer,
    Trace,
    sleep_ms,
    task_stats,
    yield_now,
)
from shimeji.trace import kinds as K
from traceformat import ROOT, check_schema, png_size, tool


def traced_run():
    clk = FakeClock(0x3FFFFF00, 1000)  # the ticks wrap during the run
    timer = Timer(clk, 1000)
    s = StaticScheduler(8, policy=RoundRobinPolicy(slice_us=400), clock_us=clk, timer=timer)
    tr = Trace(256).attach(s)
    ev = Event()

    async def worker(n, us):
        for _ in range(n):
            clk.advance_us(us)
            await yield_now()
        ev.set()
        clk.advance_us(us)

    async def waiter():
        await ev.wait()
        clk.advance_us(25)
        await sleep_ms(3)
        clk.advance_us(5)

    hs = [s.spawn(worker(5, 120), "fast"), s.spawn(worker(3, 700), "slow"),
          s.spawn(waiter(), "waiter")]
    cpu = {}
    for _ in range(40):
        timer.turn()
        s.tick(2)
        for h in hs:
            st = task_stats(h)
            if st is not None:
                cpu[h.id] = st[1]  # the µs the policy charged, while the task lives
        clk.advance_us(900)
    assert all(h.is_complete() for h in hs)
    out = io.StringIO()
    tr.dump(out)
    return out.getvalue(), cpu, {h.id: h.name for h in hs}


def test_json_is_valid_trace_event_format_and_durations_are_the_cpu_time():
    text, cpu, names = traced_run()
    sections = tool.parse(text)
    obj = tool.chrome_trace(sections)
    check_schema(obj)
    ev = obj["traceEvents"]
    dur = {}
    for e in ev:
        if e["ph"] == "X" and e["name"] == "poll":
            dur[e["tid"]] = dur.get(e["tid"], 0) + e["dur"]
    # The last poll of a task (the one that completes it) is charged after task_stats last
    # saw the task alive: compare with the charged CPU plus that poll.
    last = {}
    for e in ev:
        if e["ph"] == "X" and e["name"] == "poll":
            last[e["tid"]] = e["dur"]
    assert {t: dur[t] - last[t] for t in cpu} == cpu
    assert dur == {1: 6 * 120, 2: 4 * 700, 3: 25 + 5}  # what each task advanced the clock by
    assert sorted(dur) == sorted(names)
    threads = {e["tid"]: e["args"]["name"] for e in ev
               if e["ph"] == "M" and e["name"] == "thread_name" and e["tid"]}
    assert threads == {t: "%d %s" % (t, n) for t, n in names.items()}
    wakes = [e for e in ev if e["ph"] == "i" and e["name"] == "wake"]
    assert [(w["tid"], w["args"]["from"]) for w in wakes] == [
        (3, "2 slow"), (3, "timer")]  # slow ends first: its 3 polls take fewer ticks
    arrows = [e for e in ev if e["ph"] in "sf"]
    assert [(a["ph"], a["tid"]) for a in arrows] == [("s", 2), ("f", 3), ("s", 0), ("f", 3)]
    counter = [e["args"]["tasks"] for e in ev if e["ph"] == "C"]
    assert max(counter) == 3 and counter[-1] == 0
    assert all(e["ts"] < 40 * 1000 for e in ev if "ts" in e)  # unwrapped across 2**30


def test_polls_pair_up_and_misses_and_parks_are_events():
    text, _, _ = traced_run()
    sec = tool.parse(text)[0]
    spans = tool.polls(sec)
    for ps in spans.values():
        assert all(b <= e for b, e, _ in ps)
        assert all(ps[i][1] <= ps[i + 1][0] for i in range(len(ps) - 1))
        assert ps[-1][2] == K.END_DONE
    parks = [e["args"]["on"] for e in tool.chrome_trace([sec])["traceEvents"]
             if e["ph"] == "i" and e["name"] == "park"]
    assert parks == ["primitive", "timer"]


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(tool.TraceFormatError, match="no 'shimeji-trace' header"):
        tool.parse("hello\n")
    with pytest.raises(tool.TraceFormatError, match="cut short"):
        tool.parse("shimeji-trace 1 size=4 count=1 dropped=0\n10 2 1 0\n")
    with pytest.raises(tool.TraceFormatError, match="not a trace record"):
        tool.parse("shimeji-trace 1 size=4 count=1 dropped=0\nzz\nend\n")


def test_png_is_drawn_at_the_asked_size(tmp_path):
    text, _, _ = traced_run()
    jpath, ppath = tool.convert(text, str(tmp_path), "run")
    assert png_size(ppath) == (1600, 900)
    assert os.path.getsize(ppath) > 20000  # lanes, bars and labels, not a blank canvas
    with open(jpath) as f:
        check_schema(json.load(f))
    small = str(tmp_path / "small.png")
    tool.timeline_png(tool.parse(text), small, width=800, height=500)
    assert png_size(small) == (800, 500)


def test_make_trace_runs_an_example_on_the_unix_port(tmp_path):
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        pytest.skip("no micropython in the venv (make test installs it)")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "trace.py"), "run",
         os.path.join(ROOT, "examples", "demo.py"), "--seconds", "0.6", "--out",
         str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "-> " in out.stdout and png_size(tmp_path / "demo.png") == (1600, 900)
    with open(tmp_path / "demo.json") as f:
        obj = json.load(f)
    check_schema(obj)
    names = {e["args"]["name"] for e in obj["traceEvents"] if e["name"] == "thread_name"}
    assert {"2 blink", "3 sampler", "4 reporter", "5 button"} <= names
