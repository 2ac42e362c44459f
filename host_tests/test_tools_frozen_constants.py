# shimeji: cpython-only (reads the package's source with the ast module)
# Frozen firmware keeps constant tuples in flash, and MicroPython's tools/mpy-tool.py stores
# every int in them outside -8192..8191 as a long-int object: arithmetic on one then allocates
# a heap int per operation even when the value is small (CfsPolicy's nice -20 weight, 88761,
# did: 48 B per charge() on the qemu firmware). No constant tuple in the package may hold one.
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "firmware", "shimeji")


def _frozen_long_ints(source):
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) for e in node.elts):
            for e in node.elts:
                v = e.value
                if isinstance(v, int) and not isinstance(v, bool) and not -0x2000 <= v <= 0x1FFF:
                    found.append((node.lineno, v))
    return found


def test_the_check_sees_a_long_int_in_a_constant_tuple():
    assert _frozen_long_ints("W = (1, 88761)\nL = [88761]\nT = tuple([88761])\n") == [
        (1, 88761)]


def test_no_constant_tuple_in_the_package_holds_an_int_past_8191():
    bad = []
    for root, _dirs, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path) as f:
                    for line, value in _frozen_long_ints(f.read()):
                        bad.append("%s:%d: %d" % (os.path.relpath(path, ROOT), line, value))
    assert bad == []
