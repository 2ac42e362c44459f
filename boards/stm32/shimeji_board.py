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

from shimeji import platform
from shimeji.platform.bsp import BoardBase, PinLed
from shimeji.sync.critical import IrqCriticalSection

# The ticker's and the USR switch's callbacks are hard interrupts (the heap locked): an error
# there keeps its message and traceback in this buffer (docs/boards.md). Once, at import.
platform.emergency_buffer()


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
        self.waits = 0  # idles that waited for an interrupt (wraps below 2**30)

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return time.ticks_us()

    def critical_section(self):
        """This board's critical section. Not ISR-safe (set-up)."""
        return IrqCriticalSection(machine)

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt, running the callbacks interrupts
        scheduled (``micropython.schedule``: soft ``Pin``/``UART``/``Timer`` handlers, and
        lwIP's PPP input, network.PPP's UART handler) before and after the wait. The run loop
        is native code, which never runs them; bytecode runs them at every branch
        (``py/vm.c``), so this method's first ``if`` runs those scheduled so far (at its first
        jump, before the rest of its test is read), and if one of them woke a task (or
        stopped the loop) it returns without waiting: before, the wait came after them anyway
        and the woken task waited for the next interrupt, up to 1 ms. The wait is
        ``time.sleep_ms(0)``, one ``mp_event_wait_ms(1)``: the callbacks scheduled since the
        check, then WFI, or with threads a switch to a ready thread without the GIL
        (``machine.idle()`` is a bare WFI that keeps the GIL). The count of waits after it
        (``waits``) is a branch too: what the interrupt that ended the wait scheduled runs
        before ``idle`` returns. Not ISR-safe."""
        loop = self.loop
        if loop is not None and (loop.stopping or loop.runnable()):  # (after its first jump)
            return  # a callback woke a task: no wait
        time.sleep_ms(0)
        w = self.waits  # counted in a branch (the wrap below 2**30): the callbacks run there
        self.waits = w + 1 if w < 0x3FFFFFFF else 0

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
        self._callback_arg(callback, "button(callback)")
        return SwitchButton(callback)

    def led(self, pin=None):
        """The demo LED. Not ISR-safe (set-up)."""
        return PybLed(pyb.LED(pin if pin is not None else self.LED_PIN))
