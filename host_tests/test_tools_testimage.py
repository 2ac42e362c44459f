# shimeji: cpython-only (the stm32 test image's plan: which test modules are frozen, which mounted)
import os

import emulate
import fwtest
import pytest
import testimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_test_image_freezes_test_modules_within_its_budget_and_leaves_out_the_rest(
        tmp_path):
    (tmp_path / "support.py").write_text("x = 1\n" * 50)  # a helper: frozen, whatever its size
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n" * 4)  # 96 B
    (tmp_path / "test_b.py").write_text("def test_b():\n    pass\n" * 4)
    (tmp_path / "test_c.py").write_text("def test_c():\n    pass\n")  # 24 B
    (tmp_path / "test_d.py").write_text("def test_d():\n    open('x')\n")  # needs files
    (tmp_path / "test_e.py").write_text("# shimeji: cpython-only\n")
    (tmp_path / "notes.txt").write_text("not a module")
    # fwtest asks the plan of its stage too, where the modules are compiled: never read as text
    (tmp_path / "test_a.mpy").write_bytes(b"M\x06\x00\x1f\x81\xff")
    frozen, left_out = testimage.plan(str(tmp_path), budget=130)
    assert frozen == ["support.py", "test_a.py", "test_c.py"]  # test_c still fits after test_b
    assert left_out == ["test_b.py"]
    assert testimage.plan(str(tmp_path), budget=10**6) == (
        ["support.py", "test_a.py", "test_b.py", "test_c.py"], [])
    # A test module another imports (its rounds, say) is frozen whatever the budget: left
    # out, the import would fail on the board (test_sched_transient_alloc_traced, session 20).
    (tmp_path / "test_f.py").write_text("def test_f():\n    from test_b import test_b\n")
    frozen, left_out = testimage.plan(str(tmp_path), budget=130)
    assert "test_b.py" in frozen and "test_b.py" not in left_out


def test_the_second_test_image_freezes_the_helpers_and_what_the_first_leaves_out(tmp_path):
    (tmp_path / "support.py").write_text("x = 1\n")
    for name in "abc":
        (tmp_path / ("test_%s.py" % name)).write_text("def test_%s():\n    pass\n" % name * 4)
    (tmp_path / "test_d.py").write_text("def test_d():\n    open('x')\n")  # needs files
    (tmp_path / "test_e.py").write_text("def test_e():\n    from test_a import test_a\n")
    first, left_out = testimage.plan(str(tmp_path), budget=240)
    assert first == ["support.py", "test_a.py", "test_b.py", "test_e.py"]
    assert left_out == ["test_c.py"]
    second, none = testimage.plan(str(tmp_path), budget=240, part=2)
    assert second == ["support.py", "test_a.py", "test_c.py"] and none == []  # (test_a: imported)
    # Between them every test module a board runs is frozen but the one that needs files.
    assert {n for n in first + second if n.startswith("test_")} == {
        "test_a.py", "test_b.py", "test_c.py", "test_e.py"}
    assert testimage.plan(str(tmp_path), budget=10**6, part=2) == (["support.py", "test_a.py"],
                                                                  [])


def test_the_second_image_is_stale_once_the_first_has_another_budget(tmp_path, monkeypatch):
    first, second = tmp_path / "tests", tmp_path / "tests2"
    first.mkdir()
    second.mkdir()
    (first / testimage.BUDGET_FILE).write_text("800000 9000\n")
    assert testimage.second_is_stale(str(first), str(second))  # none recorded
    (second / testimage.BUDGET_FILE).write_text("800000 400000\n")
    assert not testimage.second_is_stale(str(first), str(second))
    (first / testimage.BUDGET_FILE).write_text("812000 1000\n")
    assert testimage.second_is_stale(str(first), str(second))
    monkeypatch.delenv(testimage.PART_ENV, raising=False)
    assert testimage.current_part() == 1
    monkeypatch.setenv(testimage.PART_ENV, "2")
    assert testimage.current_part() == 2


def test_the_modules_the_first_test_image_leaves_out_run_on_the_second(monkeypatch, capsys):
    # Two test images (session 23): what the first leaves out for its flash budget runs frozen
    # on the second, after the first's modules; the first is found (or built) first, since its
    # budget says what it leaves out. With no second image to be had: mounted, as before.
    asked = []

    def image(board, micropy_dir, tests=False):
        asked.append(tests)
        if tests == 2 and micropy_dir == "":
            raise emulate.Unavailable("no second image")
        return "/img"

    monkeypatch.setattr(emulate, "firmware_image", image)
    monkeypatch.setattr(fwtest, "_left_out", lambda tests_dir: {"test_b.py"})
    paths = ["host_tests/test_a.py", "host_tests/test_b.py", "host_tests/test_c.py"]
    assert fwtest.image_groups("stm32", "/mp", paths, out=print) == [
        (["host_tests/test_a.py", "host_tests/test_c.py"], False), (["host_tests/test_b.py"],
                                                                     True)]
    assert asked == [True, 2]
    assert fwtest.image_groups("stm32", "/mp", paths[1:2], out=print) == [(paths[1:2], True)]
    assert fwtest.image_groups("stm32", "/mp", paths[:1], out=print) == [(paths[:1], False)]
    assert fwtest.image_groups("stm32", "", paths, out=print) == [(paths, False)]
    said = capsys.readouterr().out
    assert "the second test image: 1 test modules the first leaves out, frozen" in said
    assert "the 1 test modules the test image leaves out run mounted on it: no second image" in (
        said)


def _manifest_modules():
    """What boards/stm32/qemu/manifest_tests.py freezes: [("include", path) or (base, name)]."""
    frozen = []
    manifest = os.path.join(ROOT, "boards", "stm32", "qemu", "manifest_tests.py")
    here = os.getcwd()
    os.chdir(os.path.dirname(manifest))  # as MicroPython's manifest reader does
    try:
        with open(manifest) as f:
            exec(f.read(), {"include": lambda path: frozen.append(("include", path)),
                            "module": lambda name, base_path=".": frozen.append(
                                (os.path.normpath(base_path), name))})
    finally:
        os.chdir(here)
    return frozen


def test_the_second_test_image_freezes_what_the_first_leaves_out(monkeypatch):
    monkeypatch.setenv(testimage.PART_ENV, "2")  # (as firmware.py sets it for that build)
    second = {name for _base, name in _manifest_modules()[2:]}
    assert second == set(testimage.plan(os.path.join(ROOT, "host_tests"), part=2)[0])
    first, left_out = testimage.plan(os.path.join(ROOT, "host_tests"))
    assert set(left_out) <= second and "support.py" in second
    assert not {n for n in second - set(left_out) if n.startswith("test_")} - set(first)


def test_the_test_image_freezes_every_module_a_board_runs_and_the_runner(monkeypatch):
    monkeypatch.delenv(testimage.PART_ENV, raising=False)
    frozen = _manifest_modules()
    assert frozen[:2] == [("include", "../manifest.py"), (os.path.join("..", "..", "..", "tools"),
                                                           "fwtest_board.py")]
    tests = os.path.join(ROOT, "host_tests")
    board = {name for _base, name in frozen[2:]}
    plan_frozen, left_out = testimage.plan(tests)
    assert board == set(plan_frozen)
    sources = {}
    for name in os.listdir(tests):
        with open(os.path.join(tests, name)) as f:
            sources[name] = f.read()
    imported = set()
    for name, source in sources.items():
        first = source.split("\n", 1)[0]
        runs = name.endswith(".py") and name != "conftest.py" and "cpython-only" not in first and (
            "host-only" not in first)
        mounted = name.startswith("test_") and fwtest.NEEDS_FILES.search(source)  # run mounted
        # Each module a board runs is frozen, left out for the budget, or run mounted anyway.
        assert (name in board) + (name in left_out) + bool(runs and mounted) == runs, name
        if runs:
            imported.update(m + ".py" for m in testimage._IMPORTS.findall(source))
    assert not imported & set(left_out)  # a module another imports is never left out
    assert "support.py" in board and "test_core_port.py" in board
    assert "test_tools_fwtest.py" not in board  # CPython-only: never asked of the board


def test_the_second_image_is_the_one_booted_for_its_modules(monkeypatch, tmp_path):
    import emulated_images

    dirs = {True: tmp_path / "t1", 2: tmp_path / "t2"}
    monkeypatch.setattr(emulated_images.firmware, "build_dir", lambda b, emulated=False,
                        tests=False, network=None: str(dirs.get(tests, tmp_path / "plain")))
    monkeypatch.setattr(emulated_images, "stale_sources", lambda image: [])
    for d in dirs.values():
        d.mkdir()
        (d / "firmware.elf").write_text("elf")
        (d / testimage.BUDGET_FILE).write_text("780000 25000\n")
    assert emulated_images.firmware_image("stm32", "", 2) == str(dirs[2] / "firmware.elf")
    assert emulated_images.firmware_image("stm32", "", True) == str(dirs[True] / "firmware.elf")
    (dirs[True] / testimage.BUDGET_FILE).write_text("812000 9000\n")  # the first rebuilt
    with pytest.raises(emulated_images.Unavailable, match="another budget"):
        emulated_images.firmware_image("stm32", "", 2)  # (no tree to build it again)
