"""shimeji on MicroPython's qemu port (Cortex-M3, ``mps2-an385``): a board with no hardware.

The port has no ``machine.Timer``, no ``machine.disable_irq`` and no ``_thread``: nothing
interrupts the loop, so no ticker is needed (the timer reads the clock at each turn), there is
no critical section to take, idle is ``time.sleep_us``, and the LED is text on the UART.
``background()`` is not available: step the scheduler with ``tick()`` or ``board.run()``.
"""

import time

from shimeji.bsp import BoardBase
from shimeji.critical import NoCriticalSection


class TextLed:
    """An LED drawn as text on the UART."""

    def __init__(self, name="LED"):
        self.name = name
        self.state = False

    def value(self, v=None):
        if v is None:
            return self.state
        v = bool(v)
        if v != self.state:
            self.state = v
            print("%s %s" % (self.name, "on" if v else "off"))
        return self.state

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def toggle(self):
        self.value(not self.state)


class Board(BoardBase):
    NAME = "qemu"
    LED_PIN = "LED"
    MPY_ARCH = "armv7m"

    def ticks_us(self):
        return time.ticks_us()

    def critical_section(self):
        return NoCriticalSection()

    def idle(self, us):
        time.sleep_us(us)

    def led(self, pin=None):
        return TextLed(pin if pin is not None else self.LED_PIN)

    def button(self, callback, pin=None):
        raise NotImplementedError("the qemu port has no pins: call the handler yourself")

    def background(self, sched, **options):
        raise NotImplementedError(
            "the qemu port has no hardware timer and no threads: drive the scheduler with "
            "sched.tick() or board.run(main) instead")
