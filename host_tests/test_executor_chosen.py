"""The ``Executor`` the lazy tables name (``shimeji/executor/chosen.py``): the real one where
``_thread`` exists; on a port without it, one that raises ``NoThreads`` and loads none of the
executor's modules (the STM32 and qemu firmwares: ~5 KB of a 92 KB heap, session 24)."""

import sys

import shimeji
from shimeji import NoThreads, ShimejiError
from support import IS_MICROPYTHON, _Skipped, cpython_only, needs_thread_module, raises

try:
    import _thread  # noqa: F401

    THREADS = True
except ImportError:
    THREADS = False


def _without_threads(fn):
    if not THREADS:
        return fn
    why = "this runtime has _thread (the last test plays a port without it on CPython)"
    if IS_MICROPYTHON:
        return _Skipped(fn, why)
    import pytest

    return pytest.mark.skip(reason=why)(fn)


def test_the_name_is_the_same_class_from_both_packages():
    import shimeji.executor

    assert shimeji.Executor is shimeji.executor.Executor


@needs_thread_module
def test_with_threads_it_is_the_executor_itself():
    from shimeji.executor.executor import Executor

    assert shimeji.Executor is Executor


@_without_threads
def test_without_threads_it_refuses_and_loads_nothing_of_the_executor():
    cls = shimeji.Executor
    loaded = [m for m in sys.modules if m.startswith("shimeji.executor.")]
    assert loaded == ["shimeji.executor.chosen"], loaded
    for kw in ({}, {"workers": 2, "capacity": 8}, {"workers": 0}):
        with raises(NoThreads, "Executor needs _thread, which this port lacks") as r:
            cls(**kw)
        assert "StaticScheduler" in str(r.value) and isinstance(r.value, ShimejiError)


@cpython_only  # (sys.modules[name] = None makes its import fail: CPython's rule)
def test_a_port_without_threads_gets_the_refusing_class():
    import importlib

    saved = {k: sys.modules.get(k) for k in ("_thread", "shimeji.executor.chosen")}
    sys.modules["_thread"] = None
    sys.modules.pop("shimeji.executor.chosen", None)
    try:
        chosen = importlib.import_module("shimeji.executor.chosen")
        with raises(NoThreads, "Executor needs _thread, which this port lacks") as r:
            chosen.Executor(workers=2)
        assert "run your tasks on one StaticScheduler" in str(r.value)
        assert not hasattr(chosen.Executor, "run_worker")  # not the real one
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
