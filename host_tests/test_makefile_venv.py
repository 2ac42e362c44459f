# shimeji: cpython-only (runs make on a copy of the Makefile)
# The Makefile's venv: its stamp (.venv/.installed-<checksum of requirements.txt>) says the venv
# was made from these requirements. A .venv linked to another tree's venv (a user's clone may
# do it; CI never does) is used as it is when its stamp matches, whatever the files' times; one
# made from other requirements is refused with what to do, and left as it was.
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tree(tmp_path, stamped):
    """A tree with the Makefile and requirements.txt, its .venv a link to another tree's venv
    (with the stamp of these requirements if ``stamped``), made before this tree."""
    if shutil.which("make") is None:
        pytest.skip("needs make")
    other = tmp_path / "other" / ".venv"
    (other / "bin").mkdir(parents=True)
    tree = tmp_path / "clone"
    tree.mkdir()
    (other / "stubs").mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-stubs.txt"):
        shutil.copy(os.path.join(ROOT, name), str(tree / name))
    if stamped:
        (other / (".installed-" + _cksum("requirements.txt"))).write_text("")
        (other / "stubs" / (".installed-" + _cksum("requirements-stubs.txt"))).write_text("")
    for d, _dirs, files in os.walk(str(other)):
        for p in [d] + [os.path.join(d, f) for f in files]:
            os.utime(p, (1e9, 1e9))  # (2001: older than the clone's files)
    os.symlink(str(other), str(tree / ".venv"))
    return tree, other


def _cksum(name):
    with open(os.path.join(ROOT, name), "rb") as f:
        return subprocess.run(["cksum"], stdin=f, capture_output=True, text=True,
                              check=True).stdout.split()[0]


def _make(tree, *args):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=str(tree),
                          capture_output=True, text=True, timeout=60)


def test_a_linked_venv_with_this_trees_stamp_is_used_as_it_is(tmp_path):
    tree, _ = _tree(tmp_path, stamped=True)
    assert _make(tree, "-q", "venv").returncode == 0  # up to date: nothing to make
    dry = _make(tree, "-n", "example", "NAME=hello_tasks", "PY=python3")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        'python3 tools/run_example.py --runtime "micropython" "hello_tasks" ']
    tests = _make(tree, "-n", "test-cpython")  # (the board stubs' stamp too)
    assert tests.returncode == 0, tests.stderr
    assert tests.stdout.splitlines() == [".venv/bin/python -m pytest -q host_tests"]


def test_a_linked_venv_of_other_requirements_is_refused_and_left_alone(tmp_path):
    tree, other = _tree(tmp_path, stamped=False)
    before = sorted(os.listdir(str(other)))
    proc = _make(tree, "venv")
    assert proc.returncode != 0
    assert ".venv is a link to %s" % other in proc.stdout + proc.stderr
    assert "remove the link and run make venv" in proc.stdout + proc.stderr
    assert sorted(os.listdir(str(other))) == before and os.path.islink(str(tree / ".venv"))
