# shimeji: cpython-only (reads the source files; what they assign is the same on both runtimes)
"""A slot's words and their address are assigned in ``task.words.set_words`` and nowhere else
(task/words.py): no ``x.w = ...``, ``x.wa = ...`` nor ``setattr(x, "w"/"wa", ...)`` in the
package, the tests, the tools, the boards or the examples. (bench/'s prototypes model slots of
their own classes and are not read here.)"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREES = ("firmware", "host_tests", "tools", "boards", "examples")
NAMES = ("w", "wa")
HOME = (os.path.join("firmware", "shimeji", "task", "words.py"), "set_words")


def _sources():
    for tree in TREES:
        for top, dirs, files in os.walk(os.path.join(ROOT, tree)):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(top, name)


def _word_stores(tree):
    """(line, enclosing function's name) of every store of a ``w`` or ``wa`` attribute."""
    found = []

    def visit(node, func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if node.attr in NAMES:
                found.append((node.lineno, func))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "setattr" and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in NAMES):
            found.append((node.lineno, func))
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    visit(tree, None)
    return found


def test_only_set_words_assigns_a_slots_words():
    stray, home = [], []
    for path in _sources():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        rel = os.path.relpath(path, ROOT)
        for line, func in _word_stores(tree):
            if (rel, func) == HOME:
                home.append(line)
            else:
                stray.append("%s:%d" % (rel, line))
    assert stray == [], "set a slot's words with task.words.set_words (it sets wa too)"
    assert len(home) == 2  # set_words itself: w, then wa


def test_the_scan_sees_each_kind_of_store():
    src = "def f(s):\n    s.w = 1\n    setattr(s, 'wa', 2)\n    s.w[0] = 3\n    x = s.wa\n"
    assert _word_stores(ast.parse(src)) == [(2, "f"), (3, "f")]
