# shimeji: cpython-only (drives mpremote and emulators from the host)
# make test-firmware / make emulate: without firmware or an emulator they skip and say why
# (CI has no MicroPython tree); the runner parses a board's PASS/FAIL/SKIP lines like mptest.
import os
import subprocess
import sys

import emulate
import emulated_images
import fwtest
import fwtest_stage
import mptest
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_tree_and_no_firmware_skips_every_module_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(emulate.firmware, "build_dir", lambda b, emulated=False, tests=False: str(
        tmp_path))
    lines = []
    with pytest.raises(emulate.Unavailable) as e:
        with emulate.booted("qemu", ""):
            pass
    assert "no qemu firmware" in str(e.value) and "MICROPY_DIR" in str(e.value)
    counts = fwtest.skip_all([], str(e.value), out=lines.append)
    assert counts["PASS"] == counts["FAIL"] == 0 and counts["SKIP"] > 250
    assert lines == ["SKIP every host test module on firmware: %s" % e.value]


def test_make_targets_exit_0_and_say_why_without_firmware(tmp_path):
    env = dict(os.environ, MICROPY_DIR="", RP2040JS_DIR=str(tmp_path))
    for args in (["tools/fwtest.py", "rp2040", "host_tests/test_core_port.py"],
                 ["tools/emulate.py", "rp2040"]):
        built = os.path.join(ROOT, "build", "firmware", "rp2040")
        if any(os.path.exists(os.path.join(built, f)) for f in ("firmware.uf2", "firmware.elf")):
            pytest.skip("an rp2040 firmware is built here: the no-firmware path is not reachable")
        proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "no rp2040 firmware" in proc.stdout, proc.stdout


def test_a_boards_lines_become_results_and_a_missing_test_is_a_failure(monkeypatch):
    out = "PASS test_a\nSKIP test_b: needs _thread\nFAIL test_c\nTraceback...\nMODULE-DONE\n"

    class Done:
        stdout, stderr, returncode = out, "", 0

    monkeypatch.setattr(fwtest.subprocess, "run", lambda *a, **k: Done)
    path = os.path.join(ROOT, "build", "test_fake_module.py")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("def test_a():\n    pass\n\n\ndef test_b():\n    pass\n\n\ndef test_c():\n"
                "    pass\n\n\ndef test_d():\n    pass\n")
    results, _ = fwtest.run_module("/dev/null", path)
    assert results == [
        ("PASS", "test_fake_module::test_a", ""),
        ("SKIP", "test_fake_module::test_b", "needs _thread"),
        ("FAIL", "test_fake_module::test_c", ""),
        ("FAIL", "test_fake_module (module)", "crashed or did not run: ['test_d']"),
    ]


def test_a_module_that_hangs_the_board_restarts_the_emulator_and_the_rest_run(monkeypatch):
    ran = []

    def run_module(port, path, **kw):
        name = os.path.splitext(os.path.basename(path))[0]
        ran.append((port, name))
        if name == "test_a":  # hangs the board: the runner timed out
            return [("FAIL", "test_a (module)", "crashed or did not run: ['test_x']")], ""
        return [("PASS", name + "::test_y", "")], ""

    restarts = []

    def restart():
        restarts.append(True)
        return "port%d" % (len(restarts) + 1)

    monkeypatch.setattr(fwtest, "run_module", run_module)
    # No copy of the checkout: a real run may be mounting build/fwtest-checkout right now.
    monkeypatch.setattr(fwtest, "stage", lambda *args: "staged")
    lines = []
    counts = fwtest.run_all("port1", ["t/test_a.py", "t/test_b.py", "t/test_c.py"],
                            out=lines.append, restart=restart)
    assert ran == [("port1", "test_a"), ("port2", "test_b"), ("port2", "test_c")]
    assert counts == {"PASS": 2, "FAIL": 1, "SKIP": 0}
    assert "(the board did not finish test_a.py: emulator restarted)" in lines


def test_jobs_share_the_modules_between_emulators_and_add_up_the_counts(monkeypatch):
    ran = []

    def run_module(port, path, **kw):
        name = os.path.splitext(os.path.basename(path))[0]
        ran.append((port, name))
        return [("PASS", name + "::test_y", ""), ("SKIP", name + "::test_z", "why")], ""

    class Emu:
        def __init__(self, path):
            self.path = path

        def restart(self):
            raise AssertionError("nothing hung: no restart")

    monkeypatch.setattr(fwtest, "run_module", run_module)
    # No copy of the checkout: a real run may be mounting build/fwtest-checkout right now.
    monkeypatch.setattr(fwtest, "stage", lambda *args: "staged")
    paths = ["t/test_%d.py" % i for i in range(7)]
    lines = []
    counts = fwtest.run_parallel([Emu("p1"), Emu("p2")], paths, out=lines.append)
    assert counts == {"PASS": 7, "FAIL": 0, "SKIP": 7}
    assert sorted(name for _, name in ran) == ["test_%d" % i for i in range(7)]
    assert {port for port, _ in ran} <= {"p1", "p2"}
    assert len([x for x in lines if x.startswith("SKIP")]) == 7


def test_compiled_tests_leave_mpy_files_that_the_unix_port_imports(tmp_path):
    # --compile (the stm32 default): each module becomes .mpy and its source goes, so the
    # board imports the compiled one; conftest.py (pytest's) and a module mpy-cross refuses
    # stay sources.
    (tmp_path / "test_ok.py").write_text("def test_one():\n    return 41 + 1\n")
    (tmp_path / "conftest.py").write_text("x = 1\n")
    (tmp_path / "test_bad.py").write_text("def broken(:\n")
    lines = []
    assert fwtest_stage.compile_tests(str(tmp_path), out=lines.append) == 1
    assert sorted(os.listdir(tmp_path)) == ["conftest.py", "test_bad.py", "test_ok.mpy"]
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(mp):
        out = subprocess.run([mp, "-c", "import test_ok; print(test_ok.test_one())"],
                             cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "42", out.stdout + out.stderr
    assert "stm32" in fwtest.SMALL_BOARDS


def test_dual_boots_the_two_core_emulator_and_leaves_the_threaded_tests_on(monkeypatch):
    seen = []

    class Emu:
        path = "socket://127.0.0.1:1"

        def restart(self):
            return self.path

    class Booted:
        def __init__(self, board, micropy_dir="", icount=False, dual=False, tests=False):
            seen.append((board, dual))

        def __enter__(self):
            return Emu()

        def __exit__(self, *exc):
            return False

    def run_all(port, paths, verbose=False, **kw):
        seen.append(kw["no_threads"])
        return {"PASS": 1, "FAIL": 0, "SKIP": 0}

    monkeypatch.setattr(emulate, "emulated", Booted)
    monkeypatch.setattr(fwtest, "run_all", run_all)
    monkeypatch.delenv("DUAL", raising=False)
    assert fwtest.main(["rp2040", "--dual", "host_tests/test_executor.py"]) == 0
    assert fwtest.main(["rp2040", "host_tests/test_executor.py"]) == 0
    monkeypatch.setenv("DUAL", "1")  # make test-firmware ... DUAL=1 in the environment
    assert fwtest.main(["rp2040", "host_tests/test_executor.py"]) == 0
    assert seen == [("rp2040", True), None,
                    ("rp2040", False), emulate.NO_SECOND_THREAD["rp2040"],
                    ("rp2040", True), None]


def test_dual_without_the_fork_or_on_another_board_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("RP2040JS_DUAL_DIR", str(tmp_path))
    monkeypatch.setattr(emulate, "ROOT", str(tmp_path))
    if not emulate.shutil.which("node"):
        pytest.skip("no node here: the message would be about node")
    with pytest.raises(emulate.Unavailable) as e:
        emulate.rp2040js_dual_dir()
    assert "c1570/rp2040js" in str(e.value) and "RP2040JS_DUAL_DIR" in str(e.value)
    with pytest.raises(emulate.Unavailable) as e:
        emulate.Emulated("qemu", "", dual=True)
    assert "DUAL=1 is for BOARD=rp2040" in str(e.value)


def test_the_tests_expected_are_those_of_the_mounted_copy(monkeypatch, tmp_path):
    # The checkout gained a test after the run staged its copy: the board cannot run it, and
    # it is not counted as one that did not run.
    staged = tmp_path / "stage" / "host_tests"
    staged.mkdir(parents=True)
    (staged / "test_fake_staged.py").write_text("def test_a():\n    pass\n")
    live = tmp_path / "test_fake_staged.py"
    live.write_text("def test_a():\n    pass\n\n\ndef test_new():\n    pass\n")

    class Done:
        stdout, stderr, returncode = "PASS test_a\nMODULE-DONE\n", "", 0

    monkeypatch.setattr(fwtest.subprocess, "run", lambda *a, **k: Done)
    results, _ = fwtest.run_module("/dev/null", str(live), mount=str(tmp_path / "stage"))
    assert results == [("PASS", "test_fake_staged::test_a", "")]
    results, _ = fwtest.run_module("/dev/null", str(live), mount=str(tmp_path / "none"))
    assert results[-1] == ("FAIL", "test_fake_staged (module)",
                           "crashed or did not run: ['test_new']")


def _commands(monkeypatch, source, **kw):
    """The mpremote command lines run_module gives for a module of ``source``."""
    seen = []

    class Done:
        stdout, stderr, returncode = "PASS test_a\nMODULE-DONE\n", "", 0

    def run(cmd, **k):
        seen.append(cmd)
        return Done

    monkeypatch.setattr(fwtest.subprocess, "run", run)
    path = os.path.join(ROOT, "build", "test_fake_frozen.py")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(source)
    results, _ = fwtest.run_module("/dev/null", path, mount="/stage", **kw)
    assert results == [("PASS", "test_fake_frozen::test_a", "")]
    return seen[0]


def test_a_frozen_module_is_one_line_over_the_link_and_nothing_is_mounted(monkeypatch):
    cmd = _commands(monkeypatch, "def test_a():\n    pass\n", frozen=True)
    assert "mount" not in cmd
    assert cmd[-1] == "import fwtest_board\nfwtest_board.run('test_fake_frozen', None, None)"
    # A module that reads the checkout or writes a file runs from the mount, ahead of its
    # frozen copy.
    cmd = _commands(monkeypatch, "def test_a():\n    open('x', 'w')\n", frozen=True)
    assert cmd[cmd.index("mount") + 1] == "/stage"
    assert "sys.path.insert(0, '/remote/host_tests')" in cmd[-1]
    # A test module the image left out (past its flash budget): mounted, found after the
    # frozen helpers.
    monkeypatch.setattr(fwtest, "_left_out", lambda tests_dir: {"test_fake_frozen.py"})
    cmd = _commands(monkeypatch, "def test_a():\n    pass\n", frozen=True)
    assert cmd[cmd.index("mount") + 1] == "/stage"
    assert cmd[-1] == ("import sys\nsys.path.append('/remote/host_tests')\nimport fwtest_board\n"
                       "fwtest_board.run('test_fake_frozen', None, None)")
    # On the second test image it is frozen: one line again.
    cmd = _commands(monkeypatch, "def test_a():\n    pass\n", frozen=True, second=True)
    assert "mount" not in cmd
    monkeypatch.undo()
    # Not frozen: the runner's source goes with the call (the tests mounted).
    cmd = _commands(monkeypatch, "def test_a():\n    pass\n", no_threads="no core 1")
    assert cmd[cmd.index("mount") + 1] == "/stage"
    assert "def run(name, tests_dir=None, no_threads=None):" in cmd[-1]
    assert not [line for line in cmd[-1].splitlines() if line.lstrip().startswith("#")]
    assert cmd[-1].endswith("run('test_fake_frozen', '/remote/host_tests', 'no core 1')\n")


def test_the_runner_reports_each_test_on_micropython(tmp_path):
    mp = mptest.find_micropython(None)
    if not mp:
        pytest.skip("no MicroPython unix port here")
    (tmp_path / "test_fake_runner.py").write_text(
        "def test_a():\n    pass\n\n\ndef test_b():\n    raise ValueError('b')\n\n\n"
        "class Skipped:\n    skip_reason = 'not here'\n\n    def __call__(self):\n"
        "        raise AssertionError('a skipped test ran')\n\n\ntest_c = Skipped()\n")
    code = "import fwtest_board\nfwtest_board.run('test_fake_runner', %r)" % str(tmp_path)
    out = subprocess.run([mp, "-c", "import sys\nsys.path.append(%r)\n%s" % (
        os.path.join(ROOT, "tools"), code)], capture_output=True, text=True, timeout=60).stdout
    lines = out.splitlines()
    assert lines[0] == "PASS test_a" and lines[1] == "FAIL test_b"
    assert "ValueError: b" in out
    assert lines[-2:] == ["SKIP test_c: not here", "MODULE-DONE"]


def test_a_test_image_older_than_a_frozen_file_is_stale(monkeypatch, tmp_path):
    image = tmp_path / "build" / "firmware.elf"
    image.parent.mkdir()
    image.write_text("elf")
    (tmp_path / "build" / "frozen_content.c").write_text("frozen")
    tests = tmp_path / "host_tests"
    tests.mkdir()
    (tests / "test_x.py").write_text("def test_a():\n    pass\n")
    (tests / "notes.txt").write_text("not frozen")
    monkeypatch.setattr(emulated_images, "ROOT", str(tmp_path))
    os.utime(tests / "test_x.py", (100, 100))
    os.utime(tests / "notes.txt", (300, 300))
    os.utime(tmp_path / "build" / "frozen_content.c", (200, 200))
    os.utime(image, (400, 400))
    assert emulated_images.stale_sources(str(image)) == []
    # Edited while the port compiled: newer than the freeze, older than the linked image.
    os.utime(tests / "test_x.py", (250, 250))
    assert emulated_images.stale_sources(str(image)) == [os.path.join("host_tests", "test_x.py")]
    # A CPython-only test module is never frozen: editing it leaves the image as it is.
    (tests / "test_y.py").write_text("# shimeji: cpython-only (a host tool's)\n")
    os.utime(tests / "test_y.py", (250, 250))
    assert emulated_images.stale_sources(str(image)) == [os.path.join("host_tests", "test_x.py")]


def test_each_run_stages_its_own_copy_and_clears_the_copies_of_dead_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(fwtest_stage, "ROOT", str(tmp_path))
    build = tmp_path / "build"
    build.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid no process has now (reaped)
    (build / ("fwtest-checkout-%d" % dead.pid)).mkdir()  # a run that died mid-way
    (build / ("fwtest-checkout-%d" % os.getppid())).mkdir()  # a live run's: kept
    (build / "fwtest-checkout").mkdir()  # the old shared name: not a run's, left alone
    registered = []
    monkeypatch.setattr("atexit.register", lambda *a: registered.append(a))
    path = fwtest_stage.stage_dir("checkout")
    assert path == str(build / ("fwtest-checkout-%d" % os.getpid()))
    assert not (build / ("fwtest-checkout-%d" % dead.pid)).exists()
    assert (build / ("fwtest-checkout-%d" % os.getppid())).exists()
    assert (build / "fwtest-checkout").exists()
    assert len(registered) == 1 and registered[0][1] == path  # removed when this run ends
    assert fwtest_stage.stage_dir("source", pid=7).endswith("fwtest-source-7")
    assert fwtest_stage.is_source_stage(fwtest_stage.stage_dir("source", pid=7))
    assert not fwtest_stage.is_source_stage(path)
