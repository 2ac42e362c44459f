# shimeji: cpython-only (runs host_tests/gil_scenarios.py in a subprocess on the MicroPython
# build that MICROPY_GIL_BIN names: one made with MICROPY_PY_THREAD_GIL=1, `make micropython-gil`)
"""On a MicroPython with a GIL, an idle thread releases it (docs/executor.md, "Ports with a GIL").

The unix port from PyPI has no GIL; ESP32's MicroPython has one, and so has a unix build with
``MICROPY_PY_THREAD_GIL=1``, which stands in for it here. There ``time.sleep_us`` (usleep on
unix, a busy wait on ESP32) keeps the GIL and native code never releases it, so the native run
loop idling in ``time.sleep_us`` kept every other thread from running. Each scenario is bounded
by the idling thread's own count of idles, never by wall-clock time, and is run twice: with the
package's idle, and with the old one (``old``: ``time.sleep_us``) to show the scenario tells.
"""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIL_BIN = os.environ.get("MICROPY_GIL_BIN")
SKIP_REASON = ("MICROPY_GIL_BIN is not set: give it a MicroPython unix build with a GIL "
               "(make micropython-gil MICROPY_DIR=... builds one)")
needs_gil_bin = pytest.mark.skipif(not GIL_BIN, reason=SKIP_REASON)


# One CPU, threads at one real-time priority: a thread runs until it waits, as FreeRTOS runs
# MicroPython's threads on a one-core ESP32-C3 (a GIL released at a bytecode branch is taken
# back before anyone else runs). Needs taskset and the right to set SCHED_FIFO (root or
# CAP_SYS_NICE); the tests that use it say so and skip otherwise.
ONE_CORE = ["taskset", "-c", "0", "chrt", "-f", "1"]


def _one_core_allowed():
    try:
        return subprocess.run(ONE_CORE + ["true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_one_core = pytest.mark.skipif(
    not (GIL_BIN and _one_core_allowed()),
    reason="needs MICROPY_GIL_BIN and permission to run `taskset -c 0 chrt -f 1` (SCHED_FIFO: "
           "root or CAP_SYS_NICE)")


def run_scenario(name, *args, wrap=()):
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([os.path.join(ROOT, "firmware"),
                                          os.path.join(ROOT, "host_tests")])
    proc = subprocess.run([*wrap, GIL_BIN, os.path.join(ROOT, "host_tests", "gil_scenarios.py"),
                           name, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    lines = out.splitlines()
    assert lines[0] == "GIL GIL port.GIL True", out  # the binary has a GIL, and shimeji knows
    result = [line for line in lines if line.startswith("RESULT ")]
    assert len(result) == 1, out
    return {k: int(v) for k, v in (f.split("=") for f in result[0].split()[1:])}


@needs_gil_bin
def test_a_wake_from_another_thread_ends_the_run_loops_idle():
    r = run_scenario("run_loop_wake")
    # the waker thread ran at the first idle (it only needs the GIL once)
    assert r == {"complete": 1, "idles": r["idles"], "waker_runs": 1}, r
    assert r["idles"] < 100, r  # of 3000 allowed


@needs_gil_bin
def test_the_old_idle_starved_the_waking_thread():
    r = run_scenario("run_loop_wake", "old")
    # time.sleep_us in a native loop: the waker never got the GIL, 3000 idles long
    assert r == {"complete": 0, "idles": 3000, "waker_runs": 0}, r


@needs_gil_bin
def test_executor_workers_take_turns():
    r = run_scenario("executor_two_workers")
    assert r["marked"] == 1 and r["other_thread"] == 1 and r["polled_1"] == 1, r
    assert r["sleeps"] < 100, r
    r = run_scenario("executor_busy_worker")
    assert r["rounds"] == 20000 and r["polled_1"] >= 1, r
    assert r["sleeps"] < 3000, r


@needs_gil_bin
def test_executor_two_workers_finish_every_task():
    r = run_scenario("executor_throughput")
    assert r["done_1"] == 192 and r["done_2"] == 192, r  # 64 tasks, three runs each



@needs_one_core
def test_a_busy_worker_lets_the_others_run_on_one_core():
    # Worker 1 runs 200,000 yield_now rounds while worker 0 sleeps 1 ms at a time; on one CPU
    # under SCHED_FIFO worker 0 runs only when worker 1 waits: its GIL hand-overs.
    r = run_scenario("executor_busy_worker_one_core", wrap=ONE_CORE)
    assert r["rounds"] == 200000 and r["turn_ms"] == 10, r
    assert r["handovers_1"] >= 1 and r["sleeps"] >= 2, r  # worker 0 woke while it ran
    assert r["first_wake_at"] < 200000, r


@needs_one_core
def test_without_hand_overs_a_busy_worker_starved_the_others_on_one_core():
    # The control: with gil_turn_ms = 0 worker 0's first 1 ms sleep ended only when the whole
    # task had (before session 9: close() from another thread never ran, and the tests that
    # waited for it hung, as on the ESP32-C3 in an emulator).
    r = run_scenario("executor_busy_worker_one_core", "old", wrap=ONE_CORE)
    assert r == {"rounds": 200000, "sleeps": 1, "first_wake_at": 200000, "handovers_1": 0,
                 "turn_ms": 0}, r
