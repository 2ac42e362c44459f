# shimeji: cpython-only (writes the bytecode-only copy, then runs tests on it under MicroPython)
# The RP2040 firmware freezes a copy of shimeji without @micropython.native/viper (frozen native
# code faults on ARMv6-M): the copy must lose nothing but the decorators and pass the tests.
import os

import bytecode_copy
import mptest
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "firmware", "shimeji")


def test_decorators_become_blank_lines_and_viper_casts_get_plain_ones():
    src = ("import micropython\n\n\n@micropython.native\ndef f(x):\n    return x\n\n\n"
           "class A:\n    @micropython.viper  # fast\n    def g(self, buf, i: int):\n"
           "        return ptr32(buf)[i]\n")
    text, n = bytecode_copy.strip_source(src)
    assert n == 2
    lines = text.split("\n")
    assert lines[3] == "" and lines[9] == "" and lines[4] == "def f(x):"
    assert "@micropython" not in text
    assert text.endswith("\n\ndef ptr32(buf):\n    return buf\n")
    assert bytecode_copy.strip_source("x = 1\n") == ("x = 1\n", 0)


def test_the_copy_keeps_every_module_and_line(tmp_path):
    out = tmp_path / "shimeji"
    removed = bytecode_copy.write_copy(SRC, str(out))
    native = 0
    for dirpath, _dirs, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".py"):
                continue
            with open(os.path.join(dirpath, name)) as f:
                orig = f.read().split("\n")
            with open(os.path.join(out, os.path.relpath(dirpath, SRC), name)) as f:
                copy = f.read().split("\n")
            native += sum(1 for x in orig if bytecode_copy.DECORATOR.match(x))
            assert len(copy) >= len(orig)
            for a, b in zip(orig, copy):
                assert b == a or (b == "" and bytecode_copy.DECORATOR.match(a)), name
            assert not any(bytecode_copy.DECORATOR.match(x) for x in copy), name
    assert removed == native > 20


@pytest.mark.parametrize("module", ["test_sched_alloc", "test_sync_alloc", "test_time_alloc",
                                    "test_trace_ring", "test_task_lifecycle"])
def test_the_copy_passes_the_tests_on_micropython(tmp_path, module):
    mp = mptest.find_micropython(None)
    path = os.path.join(ROOT, "host_tests", module + ".py")
    if not os.path.exists(path):
        pytest.skip("no %s in this tree" % module)
    bytecode_copy.write_copy(SRC, str(tmp_path / "shimeji"))
    results, out = mptest.run_module(mp, path, False, firmware=str(tmp_path))
    assert results and all(kind != "FAIL" for kind, _n, _i in results), out
    assert any(kind == "PASS" for kind, _n, _i in results)
