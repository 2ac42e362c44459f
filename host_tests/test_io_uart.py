# A board's UARTs as streams: needs UART0 wired to UART1 (TX to RX both ways), as the RP2040
# emulator wires them (tools/rp2040_emu.mjs), on STM32 UART2 to UART3, as qemu's
# b-l475e-iot01a is wired by tools/qemu_boot.py, on the classic ESP32 UART1 to UART2, as
# tools/qemu_boot.py wires the fork's esp32 machine; on the ESP32-C3, whose only UART besides
# its REPL is UART1, UART1 looped onto itself (in its qemu, through the host's UartEcho in
# tools/qemu_boot.py; on a chip, a wire from its TX pin to its RX pin): there the test of two
# UARTs talking is skipped, saying so. On qemu's mps2-an385, whose port has no machine.UART,
# the board module's Uart (a CMSDK UART through machine.mem32): UART1 to UART2, as
# tools/qemu_boot.py wires them. Skipped, saying so, where there is no such cable (CPython,
# the unix port, a board without the wires). Run on the emulators by
# host_tests/test_tools_rp2040_uart.py and `make test-firmware BOARD=rp2040|stm32|esp32|qemu`.
import os
import sys
import time

from shimeji import Cancelled, RunLoop, StaticScheduler, Stream, Timer, sleep_ms
from support import IS_MICROPYTHON, raises

BAUD = 115200
# The two UARTs the cable joins: STM32 numbers its UARTs from 1 and UART1 is its REPL; the
# classic ESP32's UART0 is its REPL (its machine name ends "with ESP32", a C3's "with ESP32C3"),
# and UART1's default pins (9, 10) are the flash's on a module: 5 and 4 instead, as
# MicroPython's own default where PSRAM takes 9 and 10.
CLASSIC_ESP32 = sys.platform == "esp32" and os.uname().machine.endswith("ESP32")
ESP32_C3 = sys.platform == "esp32" and os.uname().machine.endswith("ESP32C3")
QEMU = sys.platform == "qemu"
A, B = (2, 3) if sys.platform == "pyboard" else (1, 2) if CLASSIC_ESP32 or QEMU else (
    (1, 1) if ESP32_C3 else (0, 1))
PINS = {1: {"tx": 5, "rx": 4}} if CLASSIC_ESP32 else {}
# How long a few bytes may take to cross: ~87 µs a byte at 115200 baud on a wire; qemu's STM32
# USART takes the next byte only when its main loop wakes (~8 ms a byte, docs/boards.md).
CROSS_MS = 1000


def _cable():
    """(uart A, uart B) when a byte written on UART A arrives on UART B, else the reason why
    not. On a real board the probe sends one byte (0x55) out of UART A's TX pin."""
    try:
        if QEMU:  # the port has no machine.UART: the board module's CMSDK UART
            from shimeji_board import Uart as UART
        else:
            from machine import UART
    except ImportError:
        return "no machine.UART on this port"
    try:
        u0 = UART(A, BAUD, timeout=0, **PINS.get(A, {}))
        u1 = u0 if B == A else UART(B, BAUD, timeout=0, **PINS.get(B, {}))  # C3: one, looped
    except Exception as e:  # noqa: BLE001 - any port's refusal means: no cable to test
        return "UART(%d)/UART(%d) cannot be made here: %r" % (A, B, e)
    _drain(u0)
    _drain(u1)
    u0.write(b"\x55")
    for _ in range(200):
        if u1.any():
            _drain(u1)
            return u0, u1
        time.sleep_ms(1)
    return "nothing written on UART%d arrived on UART%d: no cable between them" % (A, B)


def _drain(u):
    while u.any():
        u.read()


_wired = _cable()
REASON = None if isinstance(_wired, tuple) else (
    "needs UART%d wired to UART%d (the emulators' cable): %s" % (A, B, _wired))


# Two tasks each holding one end need two UARTs: a UART looped onto itself gives one stream.
TWO_REASON = REASON or (None if A != B else (
    "needs two UARTs joined; this board's cable loops UART%d onto itself (the ESP32-C3 has "
    "one UART besides its REPL)" % A))


def needs_uart_cable(fn, reason=None):
    reason = reason or REASON
    if reason is None:
        return fn
    if IS_MICROPYTHON:
        from support import _Skipped

        return _Skipped(fn, reason)
    import pytest

    return pytest.mark.skip(reason=reason)(fn)


def needs_two_uarts(fn):
    return needs_uart_cable(fn, TWO_REASON)


@needs_uart_cable
def test_select_poll_reports_a_uart_readable_when_bytes_arrive():
    import select

    u0, u1 = _wired
    p = select.poll()
    p.register(u1, select.POLLIN)
    assert p.poll(0) == []  # nothing there yet
    u0.write(b"ab\n")
    ready = p.poll(100)
    assert [(obj is u1, ev & select.POLLIN) for obj, ev in ready] == [(True, select.POLLIN)]
    got = b""
    for _ in range(CROSS_MS):  # the rest of the line (3 bytes: ~260 µs on a wire)
        got += u1.read() or b""
        if len(got) >= 3:
            break
        time.sleep_ms(1)
    assert got == b"ab\n"
    assert p.poll(0) == []
    p.unregister(u1)


@needs_two_uarts
def test_two_tasks_talk_over_the_cable_through_streams():
    u0, u1 = _wired
    sched = StaticScheduler(4, timer=Timer())
    events = []
    ticks = [0]

    async def host_side():  # UART A: sends a command, reads the answer
        s = Stream(u0)
        for i in range(4):
            s.write(b"GET %d\n" % i)
            await s.drain()
            events.append(("answer", await s.readline()))

    async def device_side():  # UART B: answers each line it reads
        s = Stream(u1)
        while True:
            line = await s.readline()
            events.append(("command", line))
            if line == b"GET 3\n":
                s.write(b"OK 3 last\n")
                await s.drain()
                return
            s.write(b"OK " + line[4:])
            await s.drain()

    async def ticker():  # runs while both wait for their UART
        while True:
            await sleep_ms(1)
            ticks[0] += 1

    a = sched.spawn(host_side())
    b = sched.spawn(device_side())
    t = sched.spawn(ticker())
    loop = RunLoop(sched)
    loop.run(a)
    loop.run(b)
    t.cancel()
    with raises(Cancelled):
        loop.run(t)
    assert events == [
        ("command", b"GET 0\n"), ("answer", b"OK 0\n"),
        ("command", b"GET 1\n"), ("answer", b"OK 1\n"),
        ("command", b"GET 2\n"), ("answer", b"OK 2\n"),
        ("command", b"GET 3\n"), ("answer", b"OK 3 last\n"),
    ]
    assert ticks[0] > 0  # the loop ran the ticker while the lines travelled
    sched.poller.forget(u0)
    sched.poller.forget(u1)


@needs_uart_cable
def test_read_exactly_across_partial_arrivals_and_a_second_reader_is_refused():
    from shimeji import IOBusy

    u0, u1 = _wired
    sched = StaticScheduler(4, timer=Timer())
    r = Stream(u1)
    got = []

    async def reader():
        got.append(await r.readexactly(40))  # 40 bytes arrive over ~3.5 ms (a wire), in pieces

    async def second():
        with raises(IOBusy):
            await r.read(1)
        got.append("busy")

    async def writer():
        await sleep_ms(2)
        Stream(u0).write(b"0123456789" * 4)

    h = sched.spawn(reader())
    h2 = sched.spawn(second())
    w = sched.spawn(writer())
    loop = RunLoop(sched)
    loop.run(h)
    loop.run(h2)
    loop.run(w)
    assert got == ["busy", b"0123456789" * 4]
    sched.poller.forget(u0)
    sched.poller.forget(u1)
