"""shimeji on the RP2040 (Raspberry Pi Pico, Pico W).

Tickless: the timer counts µs, and each idle arms a one-shot ``machine.Timer`` (``ONE_SHOT``,
``tick_hz=1000000``, a hard interrupt) for the next deadline and sleeps in ``machine.idle()``
(WFE, at most 1 ms) until it or any other interrupt fires, so an idle board takes no timer
interrupt between deadlines and a sleep ends at its deadline; then the idle runs the callbacks
interrupts scheduled (``micropython.schedule``, see ``Board.idle``). ``Board(tickless=False)``
uses a periodic ``machine.Timer`` every ``tick_us`` instead. The critical section masks interrupts
(``machine.disable_irq``); ``machine.lightsleep`` serves long waits if ``lightsleep_min_us`` is
set; the LED is the on-board ``"LED"`` pin. ``background()`` runs the
loop on the second core (``core=1``) or on the hardware timer (the default).
"""

import time

import machine

from shimeji import platform
from shimeji.platform.bsp import FOREVER_US, BoardBase, PinLed
from shimeji.sched.background import ThreadBackground, TimerBackground
from shimeji.sync.critical import IrqCriticalSection

# The one-shot alarm's callback is a hard interrupt (the heap locked): an error there keeps its
# message and traceback in this buffer (docs/boards.md). Once, at import.
platform.emergency_buffer()


class DualCoreCriticalSection(IrqCriticalSection):
    """The section for code on both cores (a ``_thread`` on core 1): ``IrqCriticalSection``.

    On the rp2 port, while a thread runs on core 1, ``machine.disable_irq()`` also takes a
    mutex shared by both cores, recursive per core (``mp_thread_begin_atomic_section``), so
    masking this core's interrupts holds the other core off already. This class used to take
    a ``_thread`` lock too, inside ``disable_irq``: a nested ``enter()`` then waited for its
    own lock while holding that mutex, and the other core waited for the mutex forever
    (docs/boards.md, "Critical sections on two cores"). ISR-safe, re-entrant."""

    def __init__(self):
        IrqCriticalSection.__init__(self, machine)


class Board(BoardBase):
    NAME = "rp2040"
    LED_PIN = "LED"
    BUTTON_PIN = 15  # a push button from GP15 to GND (the Pico has no user button)
    MPY_ARCH = "armv6m"
    TICKLESS = True  # machine.Timer does ONE_SHOT with µs periods (tick_hz)
    LONGEST_IDLE_US = FOREVER_US  # WFI returns on any interrupt: nothing needs a shorter idle

    def __init__(self, tick_us=None, lightsleep_min_us=None, dual_core=False, tickless=None):
        BoardBase.__init__(self, tick_us, tickless)
        self._ring_cb = self._ring  # bound once: arming the alarm allocates nothing
        self.lightsleep_min_us = lightsleep_min_us
        self.dual_core = dual_core

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return time.ticks_us()

    def critical_section(self):
        """This board's critical section (``disable_irq``, which spans both cores while core 1
        runs a thread). Not ISR-safe (set-up)."""
        if self.dual_core:
            return DualCoreCriticalSection()
        return IrqCriticalSection(machine)

    def idle(self, us):
        """Wait at most ``us`` µs or until an interrupt, then run the callbacks interrupts
        scheduled (``micropython.schedule``: soft ``Pin``/``UART``/``Timer`` handlers) before
        returning. ``machine.idle()`` is a WFE (at most 1 ms) that runs none, and the run
        loop is native code, which never runs them; bytecode does at each branch, so this
        method is bytecode and its wait ends in one: the jump past ``else`` (a test pins
        it). Not ``time.sleep_ms(0)``: on rp2 its WFE has a timeout already reached and
        returns at once, which would make the idle a busy spin. The first ``if`` runs those
        scheduled before the idle (at its first jump, before the rest of its test is read):
        if one of them woke a task or stopped the loop, there is no wait (before, the WFE
        came after them anyway, up to 1 ms). Not ISR-safe."""
        loop = self.loop
        if loop is not None and (loop.stopping or loop.runnable()):
            return  # a callback woke a task: no wait
        limit = self.lightsleep_min_us
        if limit is None or us < limit:
            alarm = self.alarm
            if alarm is not None:
                alarm.init(mode=machine.Timer.ONE_SHOT, period=us, tick_hz=1000000,
                           callback=self._ring_cb, hard=True)
            machine.idle()
        else:
            machine.lightsleep(us // 1000)

    def start_ticker(self, callback):
        """Call ``callback`` every ``ticker_us`` from the hardware timer. Not ISR-safe."""
        self.stop_ticker()
        freq = 1000000 // self.ticker_us
        self.ticker = machine.Timer(mode=machine.Timer.PERIODIC, freq=freq, callback=callback)

    def start_alarm(self):
        """Make the one-shot timer that ``idle`` arms. Not ISR-safe (set-up)."""
        self.stop_alarm()
        self.alarm = machine.Timer()

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

    def background(self, sched, core=0, **options):
        """Run ``sched`` behind the REPL: on the hardware timer (``core=0``), or on the
        second core (``core=1``; make the scheduler with ``Board(dual_core=True)``)."""
        loop = self.make_loop(sched, **options)
        if core == 1:
            return ThreadBackground(self, loop).start()
        return TimerBackground(self, loop).start()
