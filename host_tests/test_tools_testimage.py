# shimeji: cpython-only (the stm32 test image's plan: which test modules are frozen, which mounted)
import testimage


def test_the_test_image_freezes_test_modules_within_its_budget_and_leaves_out_the_rest(
        tmp_path):
    (tmp_path / "support.py").write_text("x = 1\n" * 50)  # a helper: frozen, whatever its size
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n" * 4)  # 96 B
    (tmp_path / "test_b.py").write_text("def test_b():\n    pass\n" * 4)
    (tmp_path / "test_c.py").write_text("def test_c():\n    pass\n")  # 24 B
    (tmp_path / "test_d.py").write_text("def test_d():\n    open('x')\n")  # needs files
    (tmp_path / "test_e.py").write_text("# shimeji: cpython-only\n")
    (tmp_path / "notes.txt").write_text("not a module")
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
