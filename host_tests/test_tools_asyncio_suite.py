# shimeji: cpython-only (drives subprocesses and MicroPython's test runners from CPython)
"""tools/asyncio_suite.py: skipped (and saying why) without a MicroPython tree; the shim it
puts before .frozen makes `import asyncio` the facade."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import asyncio_suite  # noqa: E402


def test_without_a_tree_it_says_skipped_and_why(capsys):
    assert asyncio_suite.main(["--micropy-dir", ""]) == 0
    out = capsys.readouterr().out
    assert out.startswith("asyncio suite: skipped (MICROPY_DIR is not set")


def test_the_shim_resolves_asyncio_to_the_facade():
    shim = asyncio_suite.make_shim()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([shim, asyncio_suite.FIRMWARE]))
    code = ("import asyncio, shimeji.asyncio as f\n"
            "print(asyncio.run is f.run, asyncio.Lock is f.Lock, asyncio.sleep_ms is f.sleep_ms)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True", "True"], out.stderr


def _runs(outcomes):
    calls = []

    def run(tests_dir, micropython, shim, files):
        calls.append(files)
        res = outcomes[len(calls) - 1]
        return {files[0]: (res, "line 12: expected 'task work 2', got 'finish'" if res == "fail"
                           else "")}, ""

    return run, calls


def test_a_timing_dependent_test_that_failed_is_tried_again_and_says_so():
    name = "extmod/asyncio_fair.py"
    results = {name: ("fail", "line 12: expected 'task work 2', got 'finish'"),
               "extmod/asyncio_basic.py": ("fail", "x")}
    run, calls = _runs(["pass"])
    asyncio_suite.retry_timing(results, "tests", "mp", "shim", run)
    assert calls == [[name]]  # only the timing-dependent one, once more
    res, why = results[name]
    assert res == "pass" and why.startswith("timing-dependent: t2's fifth print")
    assert "1 of 2 tries failed (line 12: expected 'task work 2', got 'finish')" in why
    assert results["extmod/asyncio_basic.py"] == ("fail", "x")  # never retried


def test_a_timing_dependent_test_failing_every_try_stays_a_failure():
    name = "extmod/asyncio_fair.py"
    results = {name: ("fail", "line 12: expected 'task work 2', got 'finish'")}
    run, calls = _runs(["fail", "fail"])
    asyncio_suite.retry_timing(results, "tests", "mp", "shim", run)
    assert len(calls) == asyncio_suite.TIMING_TRIES - 1
    res, why = results[name]
    assert res == "fail" and "3 of 3 tries failed" in why


def test_a_timing_dependent_test_that_passed_runs_once():
    results = {"extmod/asyncio_fair.py": ("pass", "")}
    run, calls = _runs([])
    asyncio_suite.retry_timing(results, "tests", "mp", "shim", run)
    assert calls == [] and results == {"extmod/asyncio_fair.py": ("pass", "")}
