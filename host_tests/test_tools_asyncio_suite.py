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
