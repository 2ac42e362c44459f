"""mpyheap.needs_heap_beside_mpy_code: a test skipped, with its reason, only where shimeji runs
from .mpy files in /lib (its code in the heap: the RP2040's .mpy path) and the heap then has less
free than the test needs; read by the runners just before the test runs. Everywhere else (the
frozen firmware, the unix port, CPython) the test runs. Both runtimes."""

from mpyheap import needs_heap_beside_mpy_code

import shimeji
from support import IS_MICROPYTHON, micropython_only

RAN = []


def _body(x=1):
    RAN.append(x)


def _as_if_from(path, check):
    """Run ``check`` with ``shimeji.__file__`` as an import from ``path`` leaves it."""
    had = getattr(shimeji, "__file__", None)
    shimeji.__file__ = path
    try:
        check()
    finally:
        if had is None:
            del shimeji.__file__
        else:
            shimeji.__file__ = had


def test_off_the_mpy_path_the_test_runs_whatever_the_heap():
    marked = needs_heap_beside_mpy_code(1 << 29)(_body)
    if not IS_MICROPYTHON:  # pytest sees the function itself
        assert marked is _body
    else:  # frozen (the firmware) or from the tree (the unix port)
        for path in (".frozen/shimeji/__init__.py", "firmware/shimeji/__init__.py"):
            _as_if_from(path, lambda: _no_reason(marked))
    del RAN[:]
    marked(7)
    assert RAN == [7]


def _no_reason(marked):
    assert marked.skip_reason is None, marked.skip_reason


@micropython_only
def test_on_the_mpy_path_it_is_skipped_only_when_the_heap_is_short():
    short = needs_heap_beside_mpy_code(1 << 29)(_body)
    room = needs_heap_beside_mpy_code(0)(_body)

    def check():
        why = short.skip_reason
        assert why is not None and ".mpy" in why and "524288 KB" in why, why
        _no_reason(room)

    _as_if_from("/lib/shimeji/__init__.mpy", check)  # as the .mpy path's import leaves it
