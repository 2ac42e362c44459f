"""shimeji on STM32 boards (pyboard and the other boards of MicroPython's stm32 port).

Periodic, not tickless: ``pyb.Timer`` has no one-shot mode (a callback that stops its own
timer would be re-armed by ``init`` on every idle, costing more than the tick it saves, and a
late deinit lets it fire again). The hardware timer is ``pyb.Timer(timer_id)`` (default 4) at
``1e6 / tick_us`` Hz; its callback runs as a hard interrupt, which the timer's interrupt entry
allows. The critical
section masks interrupts (``machine.disable_irq``); idle waits for the next interrupt (WFI, at
the latest the next timer tick) and then runs the soft interrupt handlers that interrupts
scheduled (``time.sleep_ms(0)``, see ``Board.idle``). The LED is ``pyb.LED(1)`` (red on the
pyboard; pass another number to ``led()``). ``background()`` runs the loop on the hardware
timer, scheduled out of the hard interrupt with ``micropython.schedule``.
"""

import time

import machine
import pyb

from shimeji.platform.bsp import BoardBase, PinLed
from shimeji.sync.critical import IrqCriticalSection


class PybLed(PinLed):
    """``pyb.LED`` with the demo LED interface (``on``/``off``/``toggle`` from ``PinLed``)."""

    def __init__(self, led):
        self.led = led
        self.state = False
        led.off()

    def value(self, v=None):
        """The LED's state, or set it. ISR-safe, allocation-free."""
        if v is None:
            return self.state
        self.state = bool(v)
        if self.state:
            self.led.on()
        else:
            self.led.off()
        return self.state


class SwitchButton:
    """``pyb.Switch`` (the USR button) calling ``callback(None)`` from its interrupt."""

    def __init__(self, callback):
        self.callback = callback
        self.switch = pyb.Switch()
        self.switch.callback(self._fire)  # a bound method made once, here

    def _fire(self):
        self.callback(None)

    def stop(self):
        """Detach the callback. Not ISR-safe."""
        self.switch.callback(None)


class Board(BoardBase):
    NAME = "stm32"
    LED_PIN = 1
    MPY_ARCH = "armv7emsp"
    TICKLESS = False  # pyb.Timer is periodic only

    def __init__(self, tick_us=None, timer_id=4):
        BoardBase.__init__(self, tick_us)
        self.timer_id = timer_id

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return time.ticks_us()

    def critical_section(self):
        """This board's critical section. Not ISR-safe (set-up)."""
        return IrqCriticalSection(machine)

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt, and run the callbacks interrupts
        scheduled (``micropython.schedule``: soft ``Pin``/``UART``/``Timer`` handlers, and
        lwIP's PPP input, network.PPP's UART handler). ``time.sleep_ms(0)`` is one
        ``mp_event_wait_ms(1)``: those callbacks, then WFI. ``machine.idle()`` is WFI alone,
        and the run loop is native code, which never runs them: a task waiting on such a
        callback (a socket fed by PPP) waited until some bytecode happened to run them.
        Not ISR-safe."""
        time.sleep_ms(0)

    def start_ticker(self, callback):
        """Call ``callback`` every ``ticker_us`` from the hardware timer. Not ISR-safe."""
        self.stop_ticker()
        self.ticker = pyb.Timer(self.timer_id, freq=1000000 // self.ticker_us)
        self.ticker.callback(callback)

    def stop_ticker(self):
        """Stop the hardware timer. Not ISR-safe."""
        if self.ticker is not None:
            self.ticker.callback(None)
            self.ticker.deinit()
            self.ticker = None

    def button(self, callback, pin=None):
        """The USR button (``pyb.Switch``); ``pin`` picks a ``machine.Pin`` button instead."""
        if pin is not None:
            return BoardBase.button(self, callback, pin)
        return SwitchButton(callback)

    def led(self, pin=None):
        """The demo LED. Not ISR-safe (set-up)."""
        return PybLed(pyb.LED(pin if pin is not None else self.LED_PIN))
