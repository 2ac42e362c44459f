"""shimeji on the MicroPython unix port: the board when none is attached.

Tickless through the idle wait's timeout: the timer counts µs and the loop sleeps until the
next deadline, with no ticker. The idle waits in ``poll`` on the scheduler's wake socket
(``shimeji.io``'s ``IOPoller``), so a wake from another thread (a simulated button, the REPL)
ends it at once and one idle lasts until the deadline, however far: one loop wake-up per
deadline. ``poll`` counts ms, so the last part of an idle below 1 ms is a ``sleep_us`` (a wake
then waits at most that long). ``Board(wake_socket=False)``, or a runtime without local
sockets, idles in ``sleep_us`` alone, at most ``SLEEP_IDLE_US`` (1 ms) at a time, since a
wake from another thread cannot end it.
``Board(tickless=False)``: a ``_thread`` plays a periodic hardware timer (it calls the timer's
interrupt entry every tick). The critical section is a ``_thread`` lock, and the LED is text
on the terminal.

It also runs under CPython (``PYTHONPATH=firmware:boards/unix python3 examples/blink.py``, or
``make example NAME=blink RUNTIME=cpython``): time comes from ``shimeji.port``, which supplies
the ``ticks_*`` functions CPython's ``time`` lacks, and sleeps from ``runloop.sleep_idle``.
"""

import _thread

from shimeji import port
from shimeji.errors import BadArgument
from shimeji.platform.bsp import FOREVER_US, BoardBase, TextLed
from shimeji.sched.background import ThreadBackground
from shimeji.sched.runloop import sleep_idle
from shimeji.sync.locksection import LockCriticalSection


class ThreadTicker:
    """Calls ``callback(None)`` every ``period_us`` from a ``_thread``: the unix stand-in for
    a hardware timer. ``stop()`` waits for the thread to end."""

    def __init__(self, callback, period_us):
        self.callback = callback
        self.period_us = period_us
        self.running = False
        self.ticks = 0
        self._quit = False

    def start(self):
        """Start the ticker thread. Not ISR-safe."""
        self._quit = False
        self.running = True
        _thread.start_new_thread(self._main, ())

    def _main(self):
        try:
            while not self._quit:
                sleep_idle(self.period_us)
                self.ticks += 1
                self.callback(None)
        finally:
            self.running = False

    def stop(self, timeout_ms=1000):
        """End the ticker thread (waits up to ``timeout_ms``). Not ISR-safe."""
        self._quit = True
        while self.running and timeout_ms > 0:
            sleep_idle(1000)
            timeout_ms -= 1


class SimulatedButton:
    """A button pressed by a ``_thread`` at ``presses_ms`` (ms after start), calling
    ``callback(None)`` as a pin interrupt would. ``stop()`` ends the thread."""

    def __init__(self, callback, presses_ms):
        self.callback = callback
        self.presses_ms = presses_ms
        self.presses = 0
        self.running = False
        self._quit = False

    def start(self):
        """Start the pressing thread; returns self. Not ISR-safe."""
        self.running = True
        _thread.start_new_thread(self._main, ())
        return self

    def _main(self):
        start = port.ticks_ms()
        try:
            for at in self.presses_ms:
                while not self._quit and port.ticks_diff(port.ticks_ms(), start) < at:
                    sleep_idle(1000)
                if self._quit:
                    break
                self.presses += 1
                self.callback(None)
        finally:
            self.running = False

    def stop(self, timeout_ms=1000):
        """End the pressing thread. Not ISR-safe."""
        self._quit = True
        while self.running and timeout_ms > 0:
            sleep_idle(1000)
            timeout_ms -= 1


class Board(BoardBase):
    NAME = "unix"
    LED_PIN = "LED"
    MPY_ARCH = "x64"
    TICKLESS = True  # the idle wait's timeout is the one-shot timer
    LONGEST_IDLE_US = FOREVER_US  # the wake socket ends an idle at once: no bound needed
    SLEEP_IDLE_US = 1000  # without it, a thread's wake is seen within 1 ms

    def __init__(self, tick_us=None, tickless=None, wake_socket=True):
        BoardBase.__init__(self, tick_us, tickless)
        self.behind_repl = False  # True while background() runs the loop behind the REPL
        self.text_leds = []
        self.wake_socket = wake_socket
        self.poller = None  # the IOPoller whose wake socket the loop idles on
        self._made_poller = False

    def ticks_us(self):
        """The µs tick clock. ISR-safe, allocation-free."""
        return port.ticks_us()

    def critical_section(self):
        """This board's critical section. Not ISR-safe (set-up)."""
        return LockCriticalSection()

    def idle(self, us):
        """Wait at most ``us`` µs, or until a wake from another thread ends the wait (with the
        wake socket of the loop ``make_loop`` made). Not ISR-safe."""
        poller = self.poller
        if poller is None or us < 1000:
            sleep_idle(us)
            return
        # Say "sleeping" before the last look at the loop: a wake, spawn or stop() from another
        # thread after that look sees it and sends the wake byte, which ends the poll.
        poller.sleeping = True
        loop = self.loop
        if loop is not None and (loop.stopping or loop.runnable()):
            poller.sleeping = False
            return
        t0 = port.ticks_us()
        ready = poller.wait_us(us)
        if self.interrupt_levels:
            port.check_point()  # a level's wake ended the poll: run it (CPython's stand-in)
        if ready or poller.sched._inbox_head is not None:
            return  # I/O became ready or a task was woken: the loop has work
        left = us - port.ticks_diff(port.ticks_us(), t0)
        if 0 < left < 1000:
            sleep_idle(left)  # poll counts whole ms: the rest of the wait
        # 1000 µs or more left: a wake (or stop()) ended the poll early

    def make_loop(self, sched, **options):
        """The board's ``RunLoop`` for ``sched``: tickless, it idles on the wake socket of
        ``sched``'s I/O poller (made here if ``sched`` has none) until the next deadline;
        without a wake socket, at most ``SLEEP_IDLE_US`` at a time. Not ISR-safe."""
        if not (hasattr(sched, "poller") and hasattr(sched, "tick")):  # (before any change)
            raise BadArgument("make_loop(sched): give it a scheduler (board.scheduler()), "
                              "not %r" % (sched,))
        self.poller = None
        self._made_poller = False
        if self.tickless and self.wake_socket:
            from shimeji.io.poller import poller_for

            made = sched.poller is None
            poller = poller_for(sched)
            if poller.max_idle_us is not None:  # it has a wake socket
                self.poller = poller
                self._made_poller = made
            elif made:
                poller.close()
        if self.tickless and self.poller is None:
            options.setdefault("max_idle_us", self.SLEEP_IDLE_US)
        return BoardBase.make_loop(self, sched, **options)

    def stop_wakeups(self):
        """Stop the ticker; close the wake socket ``make_loop`` made. Not ISR-safe."""
        BoardBase.stop_wakeups(self)
        poller = self.poller
        if poller is not None and self._made_poller and not poller.waiters:
            poller.close()
        self.poller = None
        self._made_poller = False

    def start_ticker(self, callback):
        """Call ``callback`` every ``ticker_us`` from the hardware timer. Not ISR-safe."""
        self.stop_ticker()
        self.ticker = ThreadTicker(callback, self.ticker_us)
        self.ticker.start()

    def stop_ticker(self):
        """Stop the hardware timer. Not ISR-safe."""
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None
        self._behind_repl(False)

    def _behind_repl(self, on):
        # Behind the REPL the LEDs draw on the terminal's top line, never inside a REPL line.
        self.behind_repl = on
        for led in self.text_leds:
            led.status_line = on

    def led(self, pin=None):
        """The demo LED, as text: ``LED ●`` / ``LED ○``, one whole line per change. Not
        ISR-safe (set-up)."""
        led = TextLed(pin if pin is not None else self.LED_PIN, glyphs=("\u25cb", "\u25cf"))
        led.status_line = self.behind_repl
        self.text_leds.append(led)
        return led

    def button(self, callback, pin=None, presses_ms=(700, 1500, 2300)):
        """A simulated button: a ``_thread`` calls ``callback(None)`` at ``presses_ms``."""
        self._callback_arg(callback, "button(callback)")
        return SimulatedButton(callback, presses_ms).start()

    def background(self, sched, **options):
        """Run ``sched`` in a ``_thread`` behind the REPL; returns the started
        ``ThreadBackground`` (``.spawn``, ``.tasks``, ``.stop``). Until it stops, the text
        LEDs draw on the terminal's top line (``TextLed.status_line``)."""
        bg = ThreadBackground(self, self.make_loop(sched, **options)).start()
        self._behind_repl(True)  # after start(): starting the ticker stops any old one first
        return bg
