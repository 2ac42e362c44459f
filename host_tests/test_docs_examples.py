# shimeji: cpython-only (runs the examples in fresh MicroPython and CPython processes)
# Every example in examples/ runs to its end on the unix board, on both runtimes, through the
# command `make example NAME=... RUNTIME=...` runs (tools/run_example.py); the demo of `make run`
# ends by itself and on Ctrl-C. Outputs are checked for what happened, never for how long it
# took.
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import run_example

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 90
RUNTIMES = ("micropython", "cpython")
# Arguments some examples take when run by the tests: the demo runs 1 s instead of 4.
ARGS = {"demo": ["1"], "echo_server": ["0", "2", "demo"], "http_status": ["0", "2", "demo"]}


def _run(name, runtime="micropython", *args):
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run_example.py"), "--runtime", runtime,
           name] + list(args)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def check_blink(lines):
    assert lines[:12] == ["LED \u25cf", "LED \u25cb"] * 6
    assert re.match(r"blink done, \d+ periods missed$", lines[12])
    assert len(lines) == 13


def check_sample_sensor(lines):
    (line,) = lines
    m = re.match(r"(\d+) samples, mean \d+\.\d\d, (\d+) timed out, (\d+) periods missed$", line)
    assert m, line
    ok, timed_out, missed = (int(g) for g in m.groups())
    assert ok + timed_out == 100 and timed_out >= 5  # every 20th read hangs past its timeout


def check_button(lines):
    assert [x for x in lines if not x.startswith("LED")] == [
        "button press 1 woke the task", "button press 2 woke the task",
        "button press 3 woke the task", "handled 3 presses"]


def check_producer_consumer(lines):
    assert lines[-1] == "produced 60, consumed 60, nothing lost"
    counts = [int(re.match(r"batch \d+: (\d+) readings", x).group(1)) for x in lines[:-1]]
    assert sum(counts) == 60 and max(counts) <= 8  # never more than the channel holds


def check_hello_tasks(lines):
    assert lines == ["  motor step 0", "  logger step 0", "  motor step 1", "  logger step 1",
                     "  logger step 2", "motor done", "logger done",
                     "flaky failed, scheduler unharmed: sensor unplugged", "all joined",
                     "idle tick: Tick(polled=0, completed=0, spawned=0, woken=0+0, "
                     "has_remaining=False)", "slots free: 8 of 8"]


def check_motor_control(lines):
    assert lines[0] == ("motor control: control every 2 ms at the interrupt level, logger at "
                        "the thread level")
    logs = [re.match(r"log (\d+): position -?\d+, \d+ control steps during the statistics$", x)
            for x in lines if x.startswith("log ")]
    assert [int(m.group(1)) for m in logs] == list(range(1, 9))
    assert len([x for x in lines if x.startswith("limit switch: motor stopped at position")]) == 1
    m = re.match(r"done: (\d+) control steps, (\d+) while the logger computed, \d+ periods "
                 r"missed; motor stopped by the limit switch$", lines[-1])
    assert m and int(m.group(1)) > 0 and len(lines) == 11
    return int(m.group(2))


def test_motor_control_preempts_the_logger_on_micropython():
    # The interrupt level runs the control loop inside the logger's 30 ms computations on
    # MicroPython; CPython's stand-in cannot preempt a poll, so there it never does.
    assert check_motor_control(_run("motor_control", "micropython")) > 0
    assert check_motor_control(_run("motor_control", "cpython")) == 0


def check_policies(lines):
    assert lines[0] == "priority order: ['crunch 0', 'crunch 1', 'motor', 'crunch 2', 'crunch 3']"
    assert re.match(r"CFS polls, nice 0 : nice 5 = \d+ : \d+ \(weights 1024 : 335\)$", lines[1])


def check_sync_pipeline(lines):
    assert lines[-2:] == ["received 20 items, all present: True", "per consumer: [10, 10]"]


def check_timer_blink(lines):
    assert lines[0] == "sensor: the awaited work did not finish within 200 ms"
    assert "samples summed: 1225" in lines and lines[-1] == "done"
    leds = [x for x in lines if x.startswith("led")]
    assert [x.split(" (")[0] for x in leds] == ["led on", "led off"] * 2
    assert len(lines) == 7


def check_echo_server(lines):
    assert re.match(r"echo server listening on 127\.0\.0\.1:\d+$", lines[0])
    assert sorted(lines[1:7]) == ["client c%d got b'c%d line %d\\n'" % (c, c, i)
                                  for c in (0, 1) for i in range(3)]
    assert lines[7:] == ["served 2 connections, 60 bytes echoed"]


def check_http_status(lines):
    assert re.match(r"http status on http://127\.0\.0\.1:\d+/tasks$", lines[0])
    assert lines[1:] == ["GET /tasks: 200 tasks ['client', 'conn', 'fast', 'main', 'server', "
                         "'slow']", "GET /nope: 404", "answered 2 requests"]


def check_demo(lines):
    assert lines[0] == ("shimeji demo on the unix board: 8 task slots, tickless, 1 \u00b5s timer "
                        "tick, 1 s (Ctrl-C stops it)")
    assert lines[1].endswith("started  blink, sampler, reporter, button")
    assert any(x.endswith("LED \u25cf") for x in lines)
    assert any(re.search(r"sensor +\d+ readings, mean", x) for x in lines)
    assert any(re.search(r"button +press 1 woke task 'button'", x) for x in lines)
    m = re.match(r"done after \d+\.\d s: (\d+) samples \(\d+ timed out\), (\d+) reported, "
                 r"\d+ LED changes, 1 button presses; 8 of 8 task slots free$", lines[-1])
    assert m, lines[-1]
    assert m.group(1) == m.group(2), lines[-1]  # every reading is reported (the last ones too)


@pytest.mark.parametrize("name", run_example.names())
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_example_runs_on_both_runtimes(name, runtime):
    check = globals().get("check_" + name)
    assert check is not None, "add check_%s: what the example must print" % name
    check(_run(name, runtime, *ARGS.get(name, [])))


def test_make_example_runs_an_example():
    proc = subprocess.run(["make", "--no-print-directory", "example", "NAME=hello_tasks",
                           "RUNTIME=cpython", "PY=" + sys.executable], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_hello_tasks(proc.stdout.splitlines())


def test_make_example_says_what_to_pass():
    for argv, says in ((["nope"], "NAME is one of blink, button, demo,"),
                       (["--runtime", "pypy", "blink"], "use micropython (the default) or "
                                                        "cpython")):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "run_example.py")]
                              + argv, cwd=ROOT, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        assert proc.returncode == 2 and says in proc.stdout, proc.stdout


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_demo_stops_cleanly_on_ctrl_c(runtime):
    cmd, env = run_example.command("demo", runtime, ["30"])
    # A shell that started us in the background may have set SIGINT to "ignore", which a child
    # inherits: give the demo the default handler, as a terminal would.
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=_default_sigint)
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
