# The idle primitive (shimeji.port.sleep_idle), the default idle of RunLoop, the executor's
# workers and every wait loop of the package: time.sleep_us where MicroPython has no GIL; on a
# build with one (sys.implementation._thread == "GIL": ESP32, stm32 with threads, a unix build
# with MICROPY_PY_THREAD_GIL=1) a wait that releases it, since time.sleep_us keeps it and
# starved every other thread (test_platform_gil.py shows it on such a build).
import sys
import time

from shimeji import port
from shimeji.sched import runloop
from support import IS_MICROPYTHON, _Skipped, alloc_delta, heap_locked, micropython_only


def _elapsed_us(fn, us):
    t0 = port.ticks_us()
    fn(us)
    return port.ticks_diff(port.ticks_us(), t0)


def test_the_gil_flag_follows_sys_implementation():
    gil = IS_MICROPYTHON and (getattr(sys.implementation, "_thread", None) == "GIL"
                              or sys.platform == "esp32")
    assert port.GIL is gil
    assert runloop.sleep_idle is port.sleep_idle  # re-exported where it always was
    if IS_MICROPYTHON:
        assert port.sleep_idle is port.pick_sleep_idle(gil, sys.platform)


@micropython_only
def test_the_primitive_follows_the_gil_and_the_port():
    assert port.pick_sleep_idle(False, "linux") is port.sleep_us_idle
    assert port.pick_sleep_idle(False, "rp2") is port.sleep_us_idle
    assert port.pick_sleep_idle(True, "esp32") is port.sleep_ms0_idle
    assert port.pick_sleep_idle(True, "pyboard") is port.sleep_ms0_idle
    assert port.pick_sleep_idle(True, "linux") is port.sleep_releasing


# MicroPython's qemu port (v1.28.0, ports/qemu/mcu/arm/ticks.c) reads its ms count and the
# SysTick counter apart: time.ticks_us steps back by up to 1 ms when the tick lands between
# the two reads (76 of 200,000 reads, worst -985 us, measured 2026-12-06), so a wait timed with
# it can look short there however long it was (docs/boards.md, "No hardware: the qemu board").
# In qemu's STM32L475 machine (our build for it names itself "... in qemu"), time.sleep_us
# ends early against time.ticks_us: 1000 us measured ~320 us with -icount, every time, and now
# and then without it (docs/boards.md, "STM32 and qemu mps2, session 18").
def not_on_the_qemu_port(fn):
    if sys.platform == "qemu":
        return _Skipped(fn, "the qemu port's time.ticks_us steps back by up to 1 ms, so a "
                            "wait timed with it can look short (docs/boards.md)")
    if " in qemu" in getattr(sys.implementation, "_machine", ""):
        return _Skipped(fn, "qemu's STM32 machine: time.sleep_us ends early against "
                            "time.ticks_us there (docs/boards.md)")
    return fn


@not_on_the_qemu_port
def test_idle_waits_are_never_short():
    # (sleep_ms0_idle, the ESP32/STM32 one with a GIL, may end early: "at most us")
    if not IS_MICROPYTHON or port.sleep_idle is not port.sleep_ms0_idle:
        for us in (1, 50, 250, 1000):
            assert _elapsed_us(port.sleep_idle, us) >= us
    if IS_MICROPYTHON:
        for us in (1, 50, 250, 1000):
            assert _elapsed_us(port.sleep_us_idle, us) >= us


@micropython_only
@not_on_the_qemu_port
def test_sleep_releasing_is_never_short_and_sleeps_at_least_once():
    for us in (0, 1, 9, 10, 11, 95, 100, 101, 250, 1000):
        assert _elapsed_us(port.sleep_releasing, us) >= us
    calls = []
    saved = port.time
    port.time = _CountingTime(calls)  # the module's own global: what sleep_releasing calls
    try:
        port.sleep_releasing(0)
        port.sleep_releasing(-5)
        port.sleep_releasing(35)
    finally:
        port.time = saved
    assert calls[0] == 0.00001 and calls[1] == 0.00001  # one 10 µs slice: the GIL goes round
    assert calls[2] == 0.00004  # 35 µs left: one 40 µs slice ends it
    assert len(calls) >= 3 and max(calls) <= 0.0001


class _CountingTime:
    def __init__(self, calls):
        self.calls = calls

    def sleep(self, s):
        self.calls.append(s)
        time.sleep(s)


def _idle_rounds(fn, us, rounds):
    for _ in range(rounds):
        fn(us)


@micropython_only
def test_idle_primitives_allocate_nothing():
    for fn in (port.sleep_idle, port.sleep_us_idle, port.sleep_releasing,
               port.sleep_ms0_idle):
        fn(5)  # warm
        heap_locked(_idle_rounds, fn, 120, 3)
        assert alloc_delta(_idle_rounds, fn, 30, 20) == 0, fn


def _not_where_the_clock_steps_back(fn):
    if sys.platform == "qemu":
        return _Skipped(fn, "the qemu port's time.ticks_us steps back by up to 1 ms, so a "
                            "wait timed with it can look short (docs/boards.md)")
    return fn


def _sleeps_with(idle):
    """(µs asked, µs taken by the clock) of five sleeps run by a RunLoop idling with ``idle``."""
    from shimeji import RunLoop, StaticScheduler, Timer, join_all, sleep_ms, sleep_us

    s = StaticScheduler(6, timer=Timer(tick_us=100))
    got = []

    async def sleeper(us):
        t0 = port.ticks_us()
        if us % 1000:
            await sleep_us(us)
        else:
            await sleep_ms(us // 1000)
        got.append((us, port.ticks_diff(port.ticks_us(), t0)))

    async def main():
        await join_all(*[s.spawn(sleeper(us)) for us in (250, 1000, 1700, 3000, 5000)])

    RunLoop(s, idle=idle).run(until=s.spawn(main()))
    return got


@_not_where_the_clock_steps_back
def test_a_run_loops_sleeps_are_never_short_when_its_idle_ends_early():
    # The run loop turns the timer after every idle and the timer reads the clock, so a sleep
    # never rests on the idle's length: an idle that returns at once, or after a third of what
    # it was asked (as time.sleep_us does in qemu's STM32 machine, and as any wait an
    # interrupt ends), only makes the loop turn again. Runs in that machine too (session 20).
    for idle in (lambda us: None, lambda us: port.sleep_idle(us // 3)):
        got = _sleeps_with(idle)
        assert len(got) == 5
        for want, took in got:
            assert took >= want, (want, took)
