# shimeji.platform.emergency_buffer(): MicroPython's emergency exception buffer, which the board
# modules with hard interrupt handlers (rp2040: the one-shot alarm; stm32: the ticker and the
# USR switch) allocate at import, so that an exception raised in such a handler (the heap
# locked) keeps its message and traceback. Called on a port that has
# micropython.alloc_emergency_exception_buf (rp2, stm32, esp32, qemu; CPython's stand-in has a
# no-op one), skipped on one that has not (the unix port); on a firmware that has it, an
# exception made with the heap locked then keeps its arguments and traceback (the qemu and
# STM32 ports drop them without it: docs/boards.md).
import sys

import shimeji.platform
from shimeji import port
from shimeji.platform import EMERGENCY_BUF, emergency_buffer
from support import IS_MICROPYTHON, _Skipped


def _micropython():
    import micropython  # (on CPython, shimeji.port's stand-in: imported after shimeji)

    return micropython


HAS_IT = hasattr(_micropython(), "alloc_emergency_exception_buf")
# Where the board modules can be loaded against stand-ins (their machine, pyb): the host.
HOSTED = sys.platform in ("linux", "darwin", "win32", "cygwin")


def _where(ok, fn, reason):
    if ok:
        return fn
    if not IS_MICROPYTHON:
        import pytest

        return pytest.mark.skip(reason=reason)(fn)
    return _Skipped(fn, reason)


class _FakeMicropython:
    """A port's ``micropython`` that has ``alloc_emergency_exception_buf``, recording calls."""

    def __init__(self):
        self.calls = []

    def alloc_emergency_exception_buf(self, size):
        self.calls.append(size)


def _with_micropython(fake, fn):
    saved = sys.modules.get("micropython")  # (None on MicroPython: a built-in module)
    sys.modules["micropython"] = fake
    try:
        return fn()
    finally:
        if saved is None:
            sys.modules.pop("micropython", None)
        else:
            sys.modules["micropython"] = saved


def test_called_on_a_port_that_has_it_skipped_on_one_that_has_not():
    fake = _FakeMicropython()
    assert _with_micropython(fake, emergency_buffer) is True
    assert _with_micropython(fake, lambda: emergency_buffer(256)) is True
    assert fake.calls == [EMERGENCY_BUF, 256] and EMERGENCY_BUF == 100
    assert _with_micropython(object(), emergency_buffer) is False  # a port without it: no error
    assert emergency_buffer() is HAS_IT  # this runtime's own (False on the unix port)
    assert HAS_IT is (not port.IS_MICROPYTHON or sys.platform != "linux")


def _raised_with_the_heap_locked():
    micropython = _micropython()
    micropython.heap_lock()  # as in a hard interrupt handler
    try:
        raise ValueError("in a hard handler")
    except ValueError as e:
        caught = e
    finally:
        micropython.heap_unlock()
    return caught


def _an_error_in_a_hard_handler_then_keeps_its_message_and_traceback():
    import io

    assert emergency_buffer() is True
    e = _raised_with_the_heap_locked()
    out = io.StringIO()
    sys.print_exception(e, out)
    assert e.args == ("in a hard handler",), e.args
    assert "_raised_with_the_heap_locked" in out.getvalue(), out.getvalue()


test_an_error_in_a_hard_handler_then_keeps_its_message_and_traceback = _where(
    IS_MICROPYTHON and HAS_IT, _an_error_in_a_hard_handler_then_keeps_its_message_and_traceback,
    "needs micropython.alloc_emergency_exception_buf (rp2, stm32, esp32, qemu firmware)")


class _Stand:
    """A stand-in module: any attribute is a callable that returns another stand-in."""

    def __getattr__(self, name):
        return lambda *a, **k: _Stand()


def _load_board(name, fakes):
    here = __file__.replace("\\", "/")
    root = here.rsplit("/", 2)[0] if "/" in here else ".."
    saved = {k: sys.modules.get(k) for k in fakes}
    sys.modules.update(fakes)
    sys.path.insert(0, root + "/boards/" + name)
    try:
        sys.modules.pop("shimeji_board", None)
        import shimeji_board  # noqa: F401 - imported for what its import calls
    finally:
        sys.path.pop(0)
        sys.modules.pop("shimeji_board", None)
        for k, mod in saved.items():
            if mod is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = mod


def _the_board_modules_with_hard_handlers_call_it_once_at_import():
    calls = []
    real = shimeji.platform.emergency_buffer
    shimeji.platform.emergency_buffer = lambda size=EMERGENCY_BUF: calls.append(size)
    try:
        for name, fakes in (("rp2040", {"machine": _Stand()}),
                            ("stm32", {"machine": _Stand(), "pyb": _Stand()}),
                            ("esp32", {"machine": _Stand()})):
            before = len(calls)
            _load_board(name, fakes)
            calls.append((name, len(calls) - before))
    finally:
        shimeji.platform.emergency_buffer = real
    # rp2040 and stm32 once each; the ESP32's timer callbacks are soft (its port refuses a
    # hard machine.Timer), so it allocates none
    assert calls == [100, ("rp2040", 1), 100, ("stm32", 1), ("esp32", 0)], calls


test_the_board_modules_with_hard_handlers_call_it_once_at_import = _where(
    HOSTED, _the_board_modules_with_hard_handlers_call_it_once_at_import,
    "loads boards/*/shimeji_board.py against stand-ins: the host only")
