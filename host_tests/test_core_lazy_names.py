"""Every name a package lists lazily resolves to something, in every package (a table entry
pointing at a module or name that does not exist would fail only when first used)."""

import gc
import sys

import shimeji
from shimeji import _lazy
from support import _Skipped

PACKAGES = ("asyncio", "executor", "io", "platform", "policy", "sched", "sync", "task", "time",
            "trace")

# Every module of the package at once does not fit on a small board: on the STM32L475 test
# image (a 91,904 B heap) resolving every name ran out of heap (make test-firmware
# BOARD=stm32, 2026-12-06). Under 1 MB of heap the names are resolved a module at a time, and
# what each module loaded is unloaded before the next (~76 KB stay free there). The unix port
# (8 MB) and CPython load them all at once.
_IN_PARTS_BELOW = 1 << 20


def _all_at_once_does_not_fit():
    """Why not here: every module of the package loaded at once, where shimeji's code goes
    into a heap under 1 MB (``.mpy`` files in /lib, not frozen: the RP2040's 241 KB, where
    the facade with every name takes ~216 KB; docs/boards.md, "RP2040 / qemu / STM32,
    session 14"). None where it fits (frozen code, CPython, the unix port)."""
    if not hasattr(gc, "mem_free") or not _lazy._COLLECT:  # (frozen: its code is in flash)
        return None
    gc.collect()
    heap = gc.mem_free() + gc.mem_alloc()
    if heap >= 1 << 20:
        return None
    return ("every module of shimeji at once, with its code in this %d B heap (not frozen), "
            "does not fit: a program that needs all of it on such a board freezes shimeji"
            % heap)


def _all_at_once(fn):
    why = _all_at_once_does_not_fit()
    return fn if why is None else _Skipped(fn, why)


def _heap_bytes():
    if not hasattr(gc, "mem_free"):
        return None  # CPython
    gc.collect()
    return gc.mem_free() + gc.mem_alloc()


def _resolve(package, attrs):
    mod = __import__(package, None, None, ("*",), 0)
    for attr in attrs:
        assert getattr(mod, attr) is not None, (package, attr)
    return len(attrs)


def _unload_since(modules, names):
    # The modules imported since, and what they added to the packages (the names resolved and
    # the submodules), so the next part starts from the same heap.
    for key in [k for k in sys.modules if k not in modules]:
        del sys.modules[key]
    for package, before in names.items():
        mod = sys.modules[package]
        for attr in [a for a in mod.__dict__ if a not in before]:
            delattr(mod, attr)
    gc.collect()


def _resolve_in_parts():
    packages = sorted(_lazy.TABLES)
    modules = set(sys.modules)
    # (__dict__, not dir(): MicroPython's dir() asks the lazy __getattr__ for every qstr)
    names = {p: set(sys.modules[p].__dict__) for p in packages}
    checked = 0
    for package in packages:
        table = _lazy.entries(package)
        by_module = {}
        for attr in sorted(table):
            by_module.setdefault(table[attr].partition(":")[0], []).append(attr)
        for path in sorted(by_module):
            checked += _resolve(package, by_module[path])
            _unload_since(modules, names)
    return checked


def test_every_lazy_name_of_every_package_resolves():
    for name in PACKAGES:
        __import__("shimeji." + name)
    assert "shimeji" in _lazy.TABLES and "shimeji.sync" in _lazy.TABLES
    heap = _heap_bytes()
    if heap is not None and heap < _IN_PARTS_BELOW:
        checked = _resolve_in_parts()
    else:
        checked = 0
        for package in sorted(_lazy.TABLES):
            checked += _resolve(package, sorted(_lazy.entries(package)))
    assert checked > 100


def test_a_name_no_package_lists_raises_attribute_error():
    try:
        value = shimeji.no_such_name  # noqa: F841
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("expected AttributeError")


@_all_at_once
def test_star_import_gives_every_public_name():
    # MicroPython's ``import *`` asks the package's ``__getattr__`` for ``__all__`` (and
    # failed with "module 'shimeji' has no attribute '__all__'"); CPython's took only the
    # names already loaded, so ``StaticScheduler`` was missing.
    ns = {}
    exec("from shimeji import *", ns)
    for name in ("StaticScheduler", "Mutex", "sleep_ms", "yield_now", "PoolFull", "Executor"):
        assert name in ns, name
    assert "lazy_names" not in ns and "port" not in ns and "core" not in ns
    ns = {}
    exec("from shimeji.sync import *", ns)
    assert "Channel" in ns and "Mutex" in ns
