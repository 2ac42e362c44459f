"""import: what importing shimeji costs, in µs and in bytes of RAM still allocated after the
import, with the package compiled to .mpy as freezing does. MicroPython only.

The driver (tools/bench.py) compiles today's package and round one's (the flat package of
commit ROUND_ONE, taken from git history) and passes their directories in SHIMEJI_MPY and
SHIMEJI_MPY_ROUND_ONE. Both are measured in this one process, interleaved, best of REPS:

- ``import shimeji`` and touching every public name: the whole package, against round one's
  ``import shimeji`` (which loaded everything);
- ``import shimeji.sync`` and making a ``Mutex``: what a firmware that needs one lock pays;
- ``import shimeji`` alone: the names resolve lazily, so this is the base only.

The goals: the whole package costs at most 10 % more than round one's, and ``shimeji.sync``
alone costs less than round one's full import."""

import gc
import os
import sys

from benchlib import emit

REPS = 7

if sys.implementation.name != "micropython":
    emit("import", "import cost (MicroPython only)", "B", None, None)
    raise SystemExit(0)

import time  # noqa: E402

NEW = os.getenv("SHIMEJI_MPY")
OLD = os.getenv("SHIMEJI_MPY_ROUND_ONE")


def _measure(path, fn):
    """(µs, bytes still allocated after a collection) of ``fn()`` with ``path`` first on
    sys.path, from a collected heap and no shimeji module loaded."""
    for name in list(sys.modules):
        if name == "shimeji" or name.startswith("shimeji."):
            del sys.modules[name]
    sys.path.insert(0, path)
    gc.collect()
    gc.disable()
    try:
        a = gc.mem_alloc()
        t0 = time.ticks_us()
        fn()
        t1 = time.ticks_us()
        gc.collect()
        b = gc.mem_alloc()
    finally:
        gc.enable()
        sys.path.pop(0)
    return time.ticks_diff(t1, t0), b - a


def import_top():
    __import__("shimeji")


def import_sync():
    __import__("shimeji.sync", None, None, ("Mutex",), 0).Mutex()


def import_all():
    pkg = __import__("shimeji")
    for name in sorted(__import__("shimeji._lazy", None, None, ("*",), 0).entries("shimeji")):
        getattr(pkg, name)


def main():
    if not NEW:
        emit("import", "import cost (run through tools/bench.py)", "B", None, None)
        return
    cases = [("all", NEW, import_all), ("sync", NEW, import_sync), ("top", NEW, import_top)]
    if OLD:
        cases.append(("old", OLD, import_top))
    best = {}
    for _ in range(REPS):  # interleaved, so a noisy moment hits every case alike
        for key, path, fn in cases:
            us, ram = _measure(path, fn)
            old_us, old_ram = best.get(key, (us, ram))
            best[key] = (min(us, old_us), min(ram, old_ram))
    ref_us, ref_b = best.get("old", (None, None))
    ref = "round one's import shimeji"
    emit("import", "µs to import shimeji and resolve every name", "µs", best["all"][0], ref_us,
         ref)
    emit("import", "bytes after importing shimeji and every name", "B", best["all"][1], ref_b,
         ref)
    emit("import", "bytes after import shimeji.sync + one Mutex", "B", best["sync"][1], ref_b,
         ref)
    emit("import", "µs for import shimeji.sync + one Mutex", "µs", best["sync"][0], ref_us, ref)
    emit("import", "bytes after import shimeji (names lazy)", "B", best["top"][1], ref_b, ref)
    emit("import", "µs for import shimeji (names lazy)", "µs", best["top"][0], ref_us, ref)


main()
