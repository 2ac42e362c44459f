# shimeji: cpython-only (starts the MicroPython unix port through tools/mp_launch.py in fresh
# processes and sends them SIGINTs; MicroPython has neither subprocess nor signals)
# Under tools/mp_launch.py the port's asynchronous SIGINT handler never runs: SIGINT is blocked
# in every thread and comes through a signalfd that shimeji/sched/sigint.py watches while a
# run loop runs; the loop stops after its current tick and run() raises KeyboardInterrupt.
# docs/repl.md, "Ctrl-C", has the figures of tools/ctrl_c_repro.py (hundreds of runs).
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)

import ctrl_c_repro  # noqa: E402
import run_example  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
pytestmark = pytest.mark.skipif(not os.path.exists(MICROPYTHON),
                                reason="no MicroPython unix port in this venv (make venv)")
TIMEOUT_S = 60

BUSY = """
from shimeji import LockCriticalSection, StaticScheduler, Timer, sleep_ms, yield_now
from shimeji.sched import sigint
from shimeji.sched.runloop import RunLoop

sched = StaticScheduler(4, critical_section=LockCriticalSection(), timer=Timer())
cs = sched.critical_section
count = [0, 0]

async def spinner():  # always runnable: the loop never idles
    while True:
        state = cs.enter()
        count[0] += 1
        cs.exit(state)
        await yield_now()

async def sleeper():
    while True:
        await sleep_ms(1)
        count[1] += 1

a = sched.spawn(spinner())
b = sched.spawn(sleeper())
loop = RunLoop(sched)
print("READY")
try:
    loop.run()
    print("run returned")
except KeyboardInterrupt:
    print("INTERRUPTED held=%s done=%s,%s watched=%s" % (
        cs.held(), a.is_complete(), b.is_complete(), sigint._active[0] is not None))
before = list(count)

async def stopper():
    await sleep_ms(30)
    loop.stop()

sched.spawn(stopper())
loop.run()
print("RESUMED %s %s" % (count[0] > before[0], count[1] > before[1]))
sched.close()
print("CLOSED %s %s" % (a.is_cancelled(), b.is_cancelled()))
"""

HOG = """
from shimeji import StaticScheduler, Timer
from shimeji.sched.runloop import RunLoop

sched = StaticScheduler(2, timer=Timer())

async def hog():  # never yields: the loop cannot reach its safe point
    print("READY")
    while True:
        pass

sched.spawn(hog())
RunLoop(sched).run()
print("never")
"""


def _launch(source, tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(source)
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([os.path.join(ROOT, "firmware"),
                                          os.path.join(ROOT, "boards", "unix")])
    return subprocess.Popen([sys.executable, os.path.join(TOOLS, "mp_launch.py"), str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=ctrl_c_repro._default_sigint)


def _finish(proc):
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out.splitlines()


def test_ctrl_c_stops_a_busy_loop_after_its_tick_and_run_again_resumes(tmp_path):
    proc = _launch(BUSY, tmp_path)
    assert proc.stdout.readline().strip() == "READY"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    lines = _finish(proc)
    assert lines == [
        "INTERRUPTED held=False done=False,False watched=False",  # tasks kept, watch ended
        "RESUMED True True",
        "CLOSED True True",
    ]
    assert proc.returncode == 0


def test_a_second_ctrl_c_ends_a_loop_that_never_reaches_its_safe_point(tmp_path):
    proc = _launch(HOG, tmp_path)
    assert proc.stdout.readline().strip() == "READY"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # taken, but the hog never lets the tick end
    time.sleep(0.5)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    lines = _finish(proc)
    assert lines == ["shimeji: second Ctrl-C before the loop stopped: ending the process"]
    assert proc.returncode == -signal.SIGTERM


def test_the_demo_stops_cleanly_on_every_ctrl_c_of_a_bounded_series():
    # 12 runs, SIGINT at a random moment 0.05-1.5 s in: each prints the summary and exits 0.
    # (Before the launcher, 1 run in 50-100 segfaulted, hung or lost its Ctrl-C.)
    cmd, env = run_example.command("demo", "micropython", ["30"])
    assert cmd[1] == os.path.join(TOOLS, "mp_launch.py")
    rng = random.Random(6)
    ends = [ctrl_c_repro.one_run(cmd, env, rng.uniform(0.05, 1.5), TIMEOUT_S)[:2]
            for _ in range(12)]
    assert [kind for kind, _ in ends] == ["ok"] * 12, [out for kind, out in ends if kind != "ok"]


def stress(cycles, rng):
    """Run host_tests/ctrl_c_stress.py on MicroPython through the launcher for ``cycles``
    cycles, one SIGINT at a random moment of each; returns its output lines."""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([os.path.join(ROOT, "firmware"),
                                          os.path.join(ROOT, "boards", "unix")])
    proc = subprocess.Popen([sys.executable, os.path.join(TOOLS, "mp_launch.py"),
                             os.path.join(ROOT, "host_tests", "ctrl_c_stress.py"), str(cycles)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=ctrl_c_repro._default_sigint)
    lines = []
    watchdog = threading.Timer(60 + cycles, proc.kill)  # a hang fails instead of stalling
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("READY"):
                time.sleep(rng.uniform(0, 0.03))
                proc.send_signal(signal.SIGINT)
            elif line.startswith("DONE"):
                break
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines


def test_the_demo_like_stress_survives_a_ctrl_c_per_cycle_on_micropython():
    # The program test_sched_ctrl_c_guard runs on CPython: after every Ctrl-C another thread
    # can take the section and every task progresses again; every 8th cycle close() returns.
    # Without the launcher a section stayed held (or the run hung) within 31-192 cycles.
    cycles = 40
    lines = stress(cycles, random.Random(7))
    cycle_lines = [x for x in lines if x.startswith("CYCLE")]
    assert cycle_lines == ["CYCLE %d ok" % k for k in range(cycles)], "\n".join(lines[-30:])
    assert lines[-1] == "DONE problems 0", "\n".join(lines[-30:])
