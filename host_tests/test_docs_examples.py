# shimeji: cpython-only (runs the examples in the MicroPython unix port, one process each)
# Every example runs to its end on the unix board; the demo of `make run` ends by itself and on
# Ctrl-C. Outputs are checked for what happened, never for how long it took.
import os
import re
import signal
import subprocess
import time

import mptest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 60


def _env():
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join(
        [".frozen", os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix")])
    return env


def _run(name, *args):
    proc = subprocess.run([mptest.find_micropython(None), os.path.join(ROOT, "examples", name)]
                          + list(args), env=_env(), capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def test_blink():
    lines = _run("blink.py")
    assert lines[:12] == ["LED \u25cf", "LED \u25cb"] * 6
    assert re.match(r"blink done, \d+ periods missed$", lines[12])
    assert len(lines) == 13


def test_sample_sensor():
    (line,) = _run("sample_sensor.py")
    m = re.match(r"(\d+) samples, mean \d+\.\d\d, (\d+) timed out, (\d+) periods missed$", line)
    assert m, line
    ok, timed_out, missed = (int(g) for g in m.groups())
    assert ok + timed_out == 100 and timed_out >= 5  # every 20th read hangs past its timeout


def test_button():
    lines = _run("button.py")
    assert [x for x in lines if not x.startswith("LED")] == [
        "button press 1 woke the task", "button press 2 woke the task",
        "button press 3 woke the task", "handled 3 presses"]


def test_producer_consumer():
    lines = _run("producer_consumer.py")
    assert lines[-1] == "produced 60, consumed 60, nothing lost"
    counts = [int(re.match(r"batch \d+: (\d+) readings", x).group(1)) for x in lines[:-1]]
    assert sum(counts) == 60 and max(counts) <= 8  # never more than the channel holds


def test_hello_tasks():
    lines = _run("hello_tasks.py")
    assert "all joined" in lines


def test_demo_runs_its_time_and_ends_by_itself():
    lines = _run("demo.py", "1")
    assert lines[0] == ("shimeji demo on the unix board: 8 task slots, 1000 \u00b5s timer tick, "
                        "1 s (Ctrl-C stops it)")
    assert lines[1].endswith("started  blink, sampler, reporter, button")
    assert any(x.endswith("LED \u25cf") for x in lines)
    assert any(re.search(r"sensor +\d+ readings, mean", x) for x in lines)
    assert any(re.search(r"button +press 1 woke task 'button'", x) for x in lines)
    assert re.match(r"done after 1\.\d s: \d+ samples \(\d+ timed out\), \d+ reported, "
                    r"\d+ LED changes, 1 button presses; 8 of 8 task slots free$", lines[-1])


def test_demo_stops_cleanly_on_ctrl_c():
    proc = subprocess.Popen([mptest.find_micropython(None),
                             os.path.join(ROOT, "examples", "demo.py"), "30"],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        first = [proc.stdout.readline(), proc.stdout.readline()]
        assert first[1].rstrip().endswith("started  blink, sampler, reporter, button"), first
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    last = out.strip().splitlines()[-1]
    assert re.match(r"stopped by Ctrl-C after \d+\.\d s: .*; 8 of 8 task slots free$", last), out
    assert proc.returncode == 0
