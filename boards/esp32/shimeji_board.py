"""shimeji on the ESP32 family.

The hardware timer is a periodic ``machine.Timer`` (hardware timer ``timer_id``, default 0);
the critical section masks interrupts (``machine.disable_irq``); idle is ``machine.idle()``
(yields to FreeRTOS until the next interrupt), or ``machine.lightsleep`` for long waits if
``lightsleep_min_us`` is set. The LED is GPIO 2 (most ESP32 DevKit boards; pass another pin
to ``led()``). ``background()`` runs the loop on the hardware timer.
"""

import time

import machine

from shimeji.platform.bsp import BoardBase, PinLed
from shimeji.sync.critical import IrqCriticalSection


class Board(BoardBase):
    NAME = "esp32"
    LED_PIN = 2
    BUTTON_PIN = 0  # the BOOT button of DevKit boards
    MPY_ARCH = "xtensawin"

    def __init__(self, tick_us=None, timer_id=0, lightsleep_min_us=None):
        BoardBase.__init__(self, tick_us)
        self.timer_id = timer_id
        self.lightsleep_min_us = lightsleep_min_us

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return time.ticks_us()

    def critical_section(self):
        """This board's critical section. Not ISR-safe (set-up)."""
        return IrqCriticalSection(machine)

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt. Not ISR-safe."""
        limit = self.lightsleep_min_us
        if limit is not None and us >= limit:
            machine.lightsleep(us // 1000)
        else:
            machine.idle()

    def start_ticker(self, callback):
        """Call ``callback`` every ``tick_us`` from the hardware timer. Not ISR-safe."""
        self.stop_ticker()
        period_ms = max(1, self.tick_us // 1000)
        self.ticker = machine.Timer(self.timer_id)
        self.ticker.init(mode=machine.Timer.PERIODIC, period=period_ms, callback=callback)

    def stop_ticker(self):
        """Stop the hardware timer. Not ISR-safe."""
        if self.ticker is not None:
            self.ticker.deinit()
            self.ticker = None

    def led(self, pin=None):
        """The demo LED. Not ISR-safe (set-up)."""
        return PinLed(machine.Pin(pin if pin is not None else self.LED_PIN, machine.Pin.OUT))
