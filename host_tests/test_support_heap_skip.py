"""support.needs_heap_beside_mpy_code: a test skipped, with its reason, only where shimeji runs
from .mpy files in /lib (its code in the heap: the RP2040's .mpy path) and the heap then has less
free than the test needs; read by the runners just before the test runs. Everywhere else (the
frozen firmware, the unix port, CPython) the test runs. Both runtimes."""

import shimeji
from support import IS_MICROPYTHON, micropython_only, needs_heap_beside_mpy_code

RAN = []


def _body(x=1):
    RAN.append(x)


def test_off_the_mpy_path_the_test_runs_whatever_the_heap():
    marked = needs_heap_beside_mpy_code(1 << 29)(_body)
    assert getattr(marked, "skip_reason", None) is None
    del RAN[:]
    marked(7)
    assert RAN == [7]
    if not IS_MICROPYTHON:  # pytest sees the function itself
        assert marked is _body


@micropython_only
def test_on_the_mpy_path_it_is_skipped_only_when_the_heap_is_short():
    had = getattr(shimeji, "__file__", None)
    shimeji.__file__ = "/lib/shimeji/__init__.mpy"  # as the .mpy path's import leaves it
    try:
        short = needs_heap_beside_mpy_code(1 << 29)(_body)
        room = needs_heap_beside_mpy_code(0)(_body)
        why = short.skip_reason
        assert why is not None and ".mpy" in why and "frozen" in why, why
        assert "524288 KB" in why, why  # what the test needs, then what is free
        assert room.skip_reason is None
    finally:
        if had is None:
            del shimeji.__file__
        else:
            shimeji.__file__ = had
    assert short.skip_reason is None  # off the .mpy path again
