"""shimeji on MicroPython's qemu port (Cortex-M3, ``mps2-an385``): a board with no hardware.

The port has no ``machine.Timer``, no ``machine.disable_irq`` and no ``_thread``: nothing
interrupts the loop, so it is tickless through the idle wait's timeout: the timer counts µs and
idle is ``time.sleep_us`` until the next deadline (nothing else can end it, so no shorter
bound). There is no critical section to take, and the LED is text on the UART. The
port's ``time.ticks_us`` can step back by up to a millisecond: the board's clock holds it.
``background()`` is not available: step the scheduler with ``tick()`` or ``board.run()``.

The port has no ``machine.UART`` either: ``Uart(n)`` is one of the machine's CMSDK APB UARTs
(1-4; UART0 is the REPL) as a stream, through ``machine.mem32``. ``make test-firmware``
boots qemu with UART1 and UART2 joined (tools/qemu_boot.py), as host_tests/test_io_uart.py
wants.
"""

import io
import time

from shimeji.errors import NoThreads, NotOnThisBoard
from shimeji.platform.bsp import FOREVER_US, BoardBase, TextLed
from shimeji.sync.critical import NoCriticalSection


class Board(BoardBase):
    NAME = "qemu"
    LED_PIN = "LED"
    MPY_ARCH = "armv7m"
    TICKLESS = True  # no timer hardware: the idle wait's timeout is the alarm
    LONGEST_IDLE_US = FOREVER_US  # no interrupt and no thread can wake it earlier

    def __init__(self, tick_us=None, tickless=None):
        BoardBase.__init__(self, tick_us, tickless)
        self._last_us = time.ticks_us()

    def ticks_us(self):
        """``time.ticks_us`` made monotonic: the emulated board's can step back by up to a
        millisecond, which a wrapping clock would read as 2**30 µs passing."""
        now = time.ticks_us()
        if time.ticks_diff(now, self._last_us) < 0:
            return self._last_us
        self._last_us = now
        return now

    def critical_section(self):
        """This board's critical section. Not ISR-safe (set-up)."""
        return NoCriticalSection()

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt. Not ISR-safe."""
        time.sleep_us(us)

    def led(self, pin=None):
        """The demo LED. Not ISR-safe (set-up)."""
        return TextLed(pin if pin is not None else self.LED_PIN)

    def button(self, callback, pin=None):
        """Attach ``callback`` to the button's interrupt. Not ISR-safe (set-up)."""
        raise NotOnThisBoard("the qemu port has no pins: call the handler yourself")

    def background(self, sched, **options):
        """Not available on this port (no ``_thread``, no hardware timer): raises ``NoThreads``
        saying what to use."""
        raise NoThreads(
            "the qemu port has no hardware timer and no threads: drive the scheduler with "
            "sched.tick() or board.run(main) instead")


# The mps2-an385's CMSDK APB UARTs (qemu's hw/arm/mps2.c): DATA, STATE, CTRL, .., BAUDDIV
_UART_BASES = (0x40004000, 0x40005000, 0x40006000, 0x40007000, 0x40009000)
_TXFULL = 1  # STATE
_RXFULL = 2
_POLL = 3  # MicroPython's MP_STREAM_POLL, and its POLLIN and POLLOUT bits
_POLLIN = 1
_POLLOUT = 4


class Uart(io.IOBase):
    """UART ``n`` (1-4) as a non-blocking stream, ``machine.UART``'s shape: ``any``, ``read``,
    ``readinto``, ``readline``, ``write``, and ``select.poll`` through ``ioctl`` (so shimeji's
    ``Stream`` and I/O waits take it). Polled, no interrupt: the registers hold one byte each
    way, and qemu holds the rest of what arrives until ``read`` takes it. ``baudrate`` and
    ``timeout`` are accepted for ``machine.UART``'s signature (qemu ignores the rate; reads
    never wait). Not ISR-safe (set-up); ``any``, ``readinto`` and ``ioctl`` allocate nothing."""

    def __init__(self, n, baudrate=115200, timeout=0):
        if not 1 <= n < len(_UART_BASES):
            raise NotOnThisBoard("UART%r: the mps2-an385 has UART1-UART4 (UART0 is the "
                                 "REPL)" % (n,))
        from machine import mem32

        self._mem = mem32
        self._data = _UART_BASES[n]
        self._state = self._data + 4
        mem32[self._data + 16] = 16  # BAUDDIV: the least qemu takes
        mem32[self._data + 8] = 3  # CTRL: TX and RX enabled

    def any(self):
        """1 if a byte is waiting, else 0. Not ISR-safe."""
        return 1 if self._mem[self._state] & _RXFULL else 0

    def readinto(self, buf):
        """Bytes waiting now into ``buf``: how many, or None if none. Not ISR-safe."""
        mem = self._mem
        n = 0
        while n < len(buf) and mem[self._state] & _RXFULL:
            buf[n] = mem[self._data] & 0xFF
            n += 1
        return n if n else None

    def read(self, n=-1):
        """Up to ``n`` bytes waiting now (all of them if ``n`` < 0), or None. Not ISR-safe."""
        got = bytearray()
        mem = self._mem
        while (n < 0 or len(got) < n) and mem[self._state] & _RXFULL:
            got.append(mem[self._data] & 0xFF)
        return bytes(got) if got else None

    def readline(self):
        """The bytes waiting now up to and with a b"\\n", or None if none. Not ISR-safe."""
        got = bytearray()
        mem = self._mem
        while mem[self._state] & _RXFULL:
            got.append(mem[self._data] & 0xFF)
            if got[-1] == 10:
                break
        return bytes(got) if got else None

    def write(self, buf):
        """Send ``buf``, a byte at a time as the transmitter takes it. Not ISR-safe."""
        mem = self._mem
        for b in buf:
            for _ in range(100000):  # qemu empties it as it sends: bounded all the same
                if not mem[self._state] & _TXFULL:
                    break
            mem[self._data] = b
        return len(buf)

    def ioctl(self, req, arg):
        """``select.poll``'s readiness (``req`` 3): ``arg``'s bits that hold now. Not
        ISR-safe."""
        if req != _POLL:
            return 0
        state = self._mem[self._state]
        return (arg & _POLLIN if state & _RXFULL else 0) | (
            0 if state & _TXFULL else arg & _POLLOUT)
