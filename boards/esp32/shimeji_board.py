"""shimeji on the ESP32 family.

Tickless: the timer counts µs, and each idle arms hardware timer ``timer_id`` (default 0) as a
``ONE_SHOT`` ``machine.Timer`` (``tick_hz=1000000``) for the next deadline, then waits in
``machine.idle()`` (yields to FreeRTOS until the next interrupt), so an idle board takes no
timer interrupt between deadlines. ``Board(tickless=False)`` makes that timer periodic instead.
The critical section is the runtime's (``default_critical_section()``: a ``_thread`` lock, not
``machine.disable_irq``, which hangs FreeRTOS when a thread waits or the GIL changes hands
inside it; docs/boards.md, "ESP32 (Xtensa), session 13"); ``machine.lightsleep`` serves
long waits if ``lightsleep_min_us`` is set. The LED is GPIO 2 (most ESP32 DevKit boards; pass
another pin to ``led()``). ``background()`` runs the loop on the hardware timer.
"""

import time

import machine

from shimeji.platform.bsp import FOREVER_US, BoardBase, PinLed
from shimeji.sync.critical import default_critical_section


class Board(BoardBase):
    NAME = "esp32"
    LED_PIN = 2
    BUTTON_PIN = 0  # the BOOT button of DevKit boards
    MPY_ARCH = "xtensawin"
    TICKLESS = True  # machine.Timer does ONE_SHOT with µs periods (tick_hz)
    LONGEST_IDLE_US = FOREVER_US  # machine.idle() returns on any interrupt

    def __init__(self, tick_us=None, timer_id=0, lightsleep_min_us=None, tickless=None):
        BoardBase.__init__(self, tick_us, tickless)
        self._ring_cb = self._ring  # bound once: arming the alarm allocates nothing
        self.timer_id = timer_id
        self.lightsleep_min_us = lightsleep_min_us

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return time.ticks_us()

    def critical_section(self):
        """The runtime's one critical section (a ``_thread`` lock on this port: no Python
        runs in a hard interrupt here, and ``disable_irq`` must not hold a thread's wait).
        Not ISR-safe (set-up)."""
        return default_critical_section()

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt. Not ISR-safe."""
        limit = self.lightsleep_min_us
        if limit is not None and us >= limit:
            machine.lightsleep(us // 1000)
            return
        alarm = self.alarm
        if alarm is not None:
            alarm.init(mode=machine.Timer.ONE_SHOT, period=us, tick_hz=1000000,
                       callback=self._ring_cb)
        machine.idle()

    def start_ticker(self, callback):
        """Call ``callback`` every ``ticker_us`` from the hardware timer. Not ISR-safe."""
        self.stop_ticker()
        self.ticker = machine.Timer(self.timer_id)
        self.ticker.init(mode=machine.Timer.PERIODIC, period=self.ticker_us, tick_hz=1000000,
                         callback=callback)

    def start_alarm(self):
        """Make the one-shot timer that ``idle`` arms. Not ISR-safe (set-up)."""
        self.stop_alarm()
        self.alarm = machine.Timer(self.timer_id)

    def stop_alarm(self):
        """Stop the one-shot timer. Not ISR-safe."""
        if self.alarm is not None:
            self.alarm.deinit()
            self.alarm = None

    def stop_ticker(self):
        """Stop the hardware timer. Not ISR-safe."""
        if self.ticker is not None:
            self.ticker.deinit()
            self.ticker = None

    def led(self, pin=None):
        """The demo LED. Not ISR-safe (set-up)."""
        return PinLed(machine.Pin(pin if pin is not None else self.LED_PIN, machine.Pin.OUT))
