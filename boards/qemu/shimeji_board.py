"""shimeji on MicroPython's qemu port (Cortex-M3, ``mps2-an385``): a board with no hardware.

The port has no ``machine.Timer``, no ``machine.disable_irq`` and no ``_thread``: nothing
interrupts the loop, so it is tickless through the idle wait's timeout: the timer counts µs and
idle is ``time.sleep_us`` until the next deadline (nothing else can end it, so no shorter
bound). There is no critical section to take, and the LED is text on the UART. The
port's ``time.ticks_us`` can step back by up to a millisecond: the board's clock holds it.
``background()`` is not available: step the scheduler with ``tick()`` or ``board.run()``.
"""

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
