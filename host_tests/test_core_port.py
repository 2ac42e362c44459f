# The port layer: the micropython stand-in and wrapping tick arithmetic on both runtimes.
from shimeji import port


def test_ticks_wrap_at_the_runtime_period():
    top = port.TICKS_MAX
    assert port.ticks_add(top, 1) == 0
    assert port.ticks_add(0, -1) == top
    assert port.ticks_diff(port.ticks_add(top, 5), top) == 5
    assert port.ticks_diff(top, port.ticks_add(top, 5)) == -5
    assert port.ticks_diff(port.ticks_add(top, port.TICKS_HALF - 1), top) == port.TICKS_HALF - 1


def test_clock_functions_return_ticks_in_range():
    for now in (port.ticks_ms(), port.ticks_us()):
        assert 0 <= now <= port.TICKS_MAX


def test_micropython_module_is_available_with_const():
    import micropython  # under CPython: the stand-in that importing shimeji installed

    assert micropython.const(7) == 7


def test_is_coroutine_tells_coroutines_from_functions():
    async def f():
        return 1

    c = f()
    assert port.is_coroutine(c)
    assert not port.is_coroutine(f)
    assert not port.is_coroutine(42)
    c.close()
