# shimeji: cpython-only (reads the package's source files; how deep its imports nest is a
# property of the source, the same on both runtimes)
"""How deep the package's imports nest, from nothing loaded: each nested import takes C stack,
and the RP2040's is 8 KB. Session 20's firmware (main bf6457d) raised "maximum recursion depth
exceeded" importing the executor from a test module: ``sched.wordtick`` took ``_CORO_TYPE``
from ``sched.lifecycle``, which made the chain executor -> shutdown -> runloop -> loopiter ->
wordtick -> lifecycle -> policyset -> fifo -> accounting -> base 10 modules deep (8 before
it, and every module passed on the board). The type now comes from ``port``. The board's own
check is ``test_platform_import_stack``; this one says which chain grew, on any host."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
# The deepest chain on a tree whose every module imported on the RP2040 firmware (sessions 18
# and 20: 8 modules, executor.idle -> runloop -> loopiter -> wordtick -> task.pool -> slot ->
# taskslot -> time). Deeper needs the board's test_platform_import_stack run first.
MAX_DEPTH = 8
_IMPORTS = {}


def _file(name):
    path = os.path.join(FIRMWARE, *name.split("."))
    if os.path.isdir(path):
        return os.path.join(path, "__init__.py")
    return path + ".py" if os.path.exists(path + ".py") else None


def _imports(name):
    """The shimeji modules ``name`` imports when it loads (its top level, ``if`` and ``try``
    bodies included; a function's imports run later), in order."""
    if name not in _IMPORTS:
        _IMPORTS[name] = _read_imports(name)
    return _IMPORTS[name]


def _read_imports(name):
    package = name if _file(name).endswith("__init__.py") else name.rsplit(".", 1)[0]
    found = []

    def visit(body):
        for node in body:
            if isinstance(node, ast.Import):
                found.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = up + ("." + base if base else "")
                found.append(base)
                found.extend(base + "." + a.name for a in node.names
                             if _file(base + "." + a.name))
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", ()):
                    visit(handler.body)
                visit(getattr(node, "finalbody", ()))

    with open(_file(name)) as f:
        visit(ast.parse(f.read()).body)
    return [m for m in found if m.split(".")[0] == "shimeji" and _file(m)]


def deepest_chain(name):
    """The longest run of nested imports that loading ``name`` from nothing makes, in the
    order Python makes them (a module loads once: later imports of it nest nothing)."""
    loaded = set()
    deepest = []

    def load(module, chain):
        nonlocal deepest
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # a package before its modules, each one level
            step = ".".join(parts[:i])
            if step in loaded:
                continue
            loaded.add(step)
            here = chain + [step]
            if len(here) > len(deepest):
                deepest = here
            for inner in _imports(step):
                load(inner, here)

    load(name, [])
    return deepest


def modules():
    names = []
    for dirpath, dirs, files in os.walk(os.path.join(FIRMWARE, "shimeji")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(dirpath, FIRMWARE).replace(os.sep, ".")
        names += [rel if f == "__init__.py" else rel + "." + f[:-3]
                  for f in files if f.endswith(".py")]
    return sorted(names)


def test_no_module_loads_through_more_than_the_boards_depth_of_nested_imports():
    deep = {}
    for name in modules():
        chain = deepest_chain(name)
        if len(chain) > MAX_DEPTH:
            deep[name] = " -> ".join(chain)
    assert not deep, ("import chains deeper than %d modules (the RP2040's 8 KB C stack ran "
                      "out at 10): import the deep one inside the function that needs it, or "
                      "from a module nearer the base: %r" % (MAX_DEPTH, deep))


def test_the_executor_chain_is_measured_from_its_package_down():
    chain = deepest_chain("shimeji.executor.shutdown")
    assert chain[:3] == ["shimeji.executor.shutdown", "shimeji.sched.runloop",
                         "shimeji.sched.loopiter"]
    assert 4 <= len(chain) <= MAX_DEPTH
    assert len(modules()) > 100
