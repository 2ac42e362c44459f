# shimeji: cpython-only (drives tools/mptest.py, which starts MicroPython processes, and reads
# pytest's own configuration)
"""Nothing in ``make test`` waits forever: a MicroPython test module that hangs is killed after
``tools/mptest.py``'s per-module timeout and reported as a failure naming the module and the
test that hung; every CPython test runs under pytest-timeout (pinned in requirements.txt, the
limit in pyproject.toml), so a hang there fails that test and the run goes on."""

import os
import re

import mptest
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (kept off the line starts: the runners count the "def test_" lines of this file)
HANGS = ("import time\n\n\ndef test_a_first():\n    pass\n\n\n"
         "def test_b_hangs():\n    time.sleep(3600)  # a wait on a thread that never ends\n\n\n"
         "def test_c_after():\n    pass\n")


def _hung_module(tmp_path):
    mp = mptest.find_micropython(None)
    if not mp:
        pytest.skip("no micropython (make venv installs it)")
    path = tmp_path / "test_fake_hang.py"
    path.write_text(HANGS)
    return mp, str(path)


def test_a_hung_module_is_killed_and_reported_with_its_name(tmp_path):
    mp, path = _hung_module(tmp_path)
    results, out = mptest.run_module(mp, path, False, firmware=str(tmp_path), timeout=10)
    assert results == [
        ("PASS", "test_fake_hang::test_a_first", ""),
        ("FAIL", "test_fake_hang (module)", "timed out after 10 s (a hang?), killed; did not "
         "finish (the first hung): ['test_b_hangs', 'test_c_after']"),
    ], out
    assert out.rstrip().endswith("[timed out after 10 s]")


def test_the_runner_prints_the_hung_module_and_fails(tmp_path, monkeypatch, capsys):
    mp, path = _hung_module(tmp_path)
    real = mptest.run_module

    def run_module(mp, path, verbose, **kw):  # the module lives in tmp_path, a short limit
        return real(mp, path, verbose, firmware=str(tmp_path), timeout=10)

    monkeypatch.setattr(mptest, "run_module", run_module)
    assert mptest.main(["--micropython", mp, path]) == 1
    printed = capsys.readouterr().out
    assert "FAIL test_fake_hang (module): timed out after 10 s" in printed
    assert "---- output of test_fake_hang.py ----" in printed
    assert printed.rstrip().endswith("micropython: 1 passed, 1 failed, 0 skipped")


def test_every_module_has_a_timeout_of_minutes():
    assert 60 <= mptest.MODULE_TIMEOUT_S <= 900


def test_pytest_timeout_is_pinned_and_applies_to_every_test(request):
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        assert re.search(r"^pytest-timeout==\d+\.\d+\.\d+$", f.read(), re.M)
    assert request.config.pluginmanager.hasplugin("timeout")
    limit = float(request.config.getini("timeout"))
    assert 60 <= limit <= 3600  # a hang fails its test; the slowest test takes ~25 s loaded


def test_wrap_runs_each_module_under_a_command_prefix(tmp_path):
    # make test-gil runs the GIL build under `taskset -c 0 chrt -f 1`: the prefix goes first
    mp = mptest.find_micropython(None)
    if not mp:
        pytest.skip("no micropython (make venv installs it)")
    path = tmp_path / "test_fake_wrapped.py"
    path.write_text("import os\n\n\ndef test_wrapped():\n"
                    "    assert os.getenv('SHIMEJI_WRAPPED') == '1'\n")
    results, out = mptest.run_module(mp, str(path), False, firmware=str(tmp_path),
                                     wrap=["env", "SHIMEJI_WRAPPED=1"])
    assert results == [("PASS", "test_fake_wrapped::test_wrapped", "")], out
    results, out = mptest.run_module(mp, str(path), False, firmware=str(tmp_path))
    assert results[0][0] == "FAIL", out  # the control: without the prefix, unset
