# shimeji: cpython-only (reads the package's source files; the layering is a property of the
# source, the same on both runtimes)
"""The layer diagram of docs/architecture.md, checked: which subpackage may import which."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "firmware", "shimeji")

# every layer's base:
BASE = {"core", "yielding", "errors", "port", "lines", "_lazy", "_values", "_names", "__init__"}
# Each layer and what it may import besides the base (and itself). Keep docs/architecture.md
# in step with this table.
LAYERS = {
    "base": set(),
    "time": set(),
    "task": {"time"},
    "policy": {"task"},
    "sync": {"task"},
    "trace": {"task"},
    "io": {"task", "sync", "time", "trace"},
    "sched": {"task", "policy", "sync", "time", "io", "trace"},
    "executor": {"task", "policy", "sync", "time", "io", "trace", "sched"},
    "platform": {"task", "policy", "sync", "time", "io", "trace", "sched", "executor"},
    "asyncio": {"task", "policy", "sync", "time", "io", "trace", "sched", "executor"},
}

IMPORT = re.compile(r"^\s*from (\.+)([a-z_.]*) import ([^\n(]+|\([^)]*\))", re.M)


def _layer_of(rel_module):
    """'sync.mutex' -> 'sync'; 'core' -> 'base'."""
    first = rel_module.split(".")[0]
    return "base" if first in BASE or not first else first


def _edges():
    """(importing module, imported module) for every relative import in the package."""
    for dirpath, _dirs, files in os.walk(PKG):
        rel_dir = os.path.relpath(dirpath, PKG)
        pkg_parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        for f in files:
            if not f.endswith(".py"):
                continue
            me = ".".join(pkg_parts + [f[:-3]])
            with open(os.path.join(dirpath, f)) as fh:
                src = fh.read()
            for dots, mod, names in IMPORT.findall(src):
                base = pkg_parts[: len(pkg_parts) - (len(dots) - 1)]
                if mod:
                    yield me, ".".join(base + mod.split("."))
                else:  # from . import a, b
                    for n in re.findall(r"[a-z_]+", names.split("#")[0]):
                        yield me, ".".join(base + [n])


def test_every_subpackage_has_a_layer():
    subs = sorted(d for d in os.listdir(PKG)
                  if os.path.isdir(os.path.join(PKG, d)) and not d.startswith("__"))
    missing = [s for s in subs if s not in LAYERS]
    assert not missing, ("new subpackage(s) %s: add a row to LAYERS here and to the diagram in "
                         "docs/architecture.md" % missing)


def test_imports_follow_the_layer_diagram():
    bad = []
    count = 0
    for me, target in _edges():
        count += 1
        mine, theirs = _layer_of(me), _layer_of(target)
        if theirs in ("base", mine) or theirs in LAYERS.get(mine, ()):
            continue
        bad.append("%s imports %s (%s may not import %s)" % (me, target, mine, theirs))
    assert count > 50  # the scan saw the package's imports
    assert not bad, "\n".join(bad)


def test_the_base_imports_no_subpackage():
    for me, target in _edges():
        if _layer_of(me) == "base" and me != "__init__":
            assert _layer_of(target) == "base", (me, target)


def test_every_module_is_named_in_the_architecture_table():
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        doc = f.read()
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"\| `([a-z_]+)` \|", line)
        if m:
            rows[m.group(1)] = line
    assert "time" in rows and "sched" in rows  # the table was found
    missing = []
    for sub in sorted(LAYERS):
        d = os.path.join(PKG, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".py") and f != "__init__.py" and "`%s`" % f[:-3] not in rows[sub]:
                missing.append("%s/%s" % (sub, f))
    assert not missing, ("module(s) %s: name each in its layer's row of the table in "
                         "docs/architecture.md" % missing)
