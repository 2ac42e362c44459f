"""What a board gives shimeji, and the set-up every board shares.

A board module (``boards/<name>/shimeji_board.py``, frozen or copied to ``/lib`` as
``shimeji_board``) defines ``Board``, a subclass of ``BoardBase`` that fills in:

- ``ticks_us()``: the tick clock the timer reads;
- ``critical_section()``: what guards wakes from interrupt handlers (``critical.py``);
- ``idle(us)``: wait at most ``us`` µs or until an interrupt (``machine.idle``, ``sleep_us``);
  a tickless board arms its one-shot alarm for ``us`` first;
- ``TICKLESS``: True if the board idles until the next deadline with no periodic interrupt
  (a one-shot hardware timer, ``start_alarm``/``stop_alarm``, or just the idle wait's
  timeout); False for a periodic ticker;
- ``start_ticker(callback)`` / ``stop_ticker()``: the periodic hardware timer that calls
  ``callback(arg)`` every ``ticker_us`` (it drives ``Timer.interrupt`` in periodic mode, and
  ``TimerBackground`` in both modes);
- ``led()``: the demo LED, an object with ``on()``, ``off()``, ``toggle()`` and ``value()``;
- ``button(callback)``: calls ``callback(arg)`` from the button's interrupt (``stop()`` ends it);
- ``background(loop)``: how the loop runs behind the REPL (see ``background.py``).

``Board.scheduler()`` wires a ``StaticScheduler`` to a timer on the board clock, and
``Board.run(main)`` runs the ready-made loop with the hardware timer started and always
stopped again. ``Board.interrupt_scheduler()`` adds an interrupt level (docs/preemption.md)
whose timer the same hardware timer drives.

Design note: tickless or periodic. A tickless board's timer counts µs (``tick_us`` 1) and the
run loop idles exactly until the next deadline: an idle board takes no interrupt between
deadlines, a sleep ends at its deadline, not at a tick boundary. ``LONGEST_IDLE_US`` bounds
one idle: long where any interrupt ends it (``machine.idle()`` is WFI), short where a wake from
another thread cannot (the unix port's ``sleep_us``). A periodic board's timer counts
``tick_us`` ticks and a hardware timer interrupts every tick.
"""

from micropython import const

from .. import port
from ..errors import BadArgument

FOREVER_US = const(0x1FFFFFFF)  # LONGEST_IDLE_US where any interrupt ends the idle: ~9 min


class PinLed:
    """An LED on a ``machine.Pin``-like object (anything with ``value(v)``). Every method is
    ISR-safe."""

    def __init__(self, pin, active_high=True):
        self.pin = pin
        self.active_high = active_high
        self.state = False
        self.off()

    def value(self, v=None):
        """The LED's state, or set it. ISR-safe, allocation-free."""
        if v is None:
            return self.state
        self.state = bool(v)
        self.pin.value(1 if self.state == self.active_high else 0)
        return self.state

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def toggle(self):
        self.value(not self.state)


def write(text):
    """Write ``text`` to stdout in one call. Not ISR-safe."""
    __import__("sys").stdout.write(text)


def write_line(text):
    """Write ``text`` and a newline to stdout in one write, so that output from another
    thread (a task's print) never lands inside the line. Not ISR-safe."""
    write(text + "\n")


# Save the cursor, draw at row 1 column 1, restore the cursor (ANSI DECSC / DECRC).
STATUS = "\x1b7\x1b[1;1H%s\x1b8"


class TextLed:
    """An LED drawn as text, for boards without one: writes ``LED <glyph>`` on every change
    (``glyphs``: the off and on text) and counts the changes. Each change is one whole line,
    written at once by ``out`` (default ``write_line``). With ``status_line`` set (the unix
    board sets it while its loop runs behind the REPL) a change is drawn on the terminal's top
    line instead, the cursor saved and restored around it (the ``STATUS`` escape sequence, one
    write through ``write``), so it never lands inside a prompt, a reply or what you type.
    Not ISR-safe: it writes."""

    def __init__(self, name="LED", out=None, glyphs=("off", "on")):
        self.name = name
        self.state = False
        self.changes = 0
        self.out = out if out is not None else write_line
        self.write = write
        self.glyphs = glyphs
        self.status_line = False

    def value(self, v=None):
        """The LED's state, or set it (writing the change). Not ISR-safe: it writes."""
        if v is None:
            return self.state
        v = bool(v)
        if v != self.state:
            self.state = v
            self.changes += 1
            text = "%s %s" % (self.name, self.glyphs[1] if v else self.glyphs[0])
            if self.status_line:
                self.write(STATUS % text)
            else:
                self.out(text)
        return self.state

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def toggle(self):
        self.value(not self.state)


class PinButton:
    """A button on a ``machine.Pin`` interrupt; ``stop()`` removes the handler."""

    def __init__(self, pin):
        self.pin = pin

    def stop(self):
        """Detach the handler. Not ISR-safe."""
        self.pin.irq(handler=None)


class BoardBase:
    """Defaults for a board with no hardware timer: override what the board has."""

    NAME = "generic"
    LED_PIN = None  # type: object
    BUTTON_PIN = None  # type: object
    MPY_ARCH = None  # type: object  # mpy-cross -march for native code
    TICK_US = 1000  # the periodic ticker's period, and the timer's tick on a periodic board
    TICKLESS = False
    LONGEST_IDLE_US = 1000  # one idle at most, on a tickless board
    SLACK_US = None  # the timer's slack (Timer's slack_us; None: its default, 64 µs)
    SLACK_MAX_US = None  # and its cap (None: Timer's default, 1024 µs)
    interrupt_levels = ()  # InterruptSchedulers made by interrupt_scheduler()

    def __init__(self, tick_us=None, tickless=None):
        self.tickless = self.TICKLESS if tickless is None else tickless
        self.ticker_us = tick_us if tick_us is not None else self.TICK_US
        # The timer's tick: 1 µs on a tickless board unless given.
        self.tick_us = 1 if self.tickless and tick_us is None else self.ticker_us
        self.slack_us = self.SLACK_US  # set before scheduler()/make_timer(): 0 for exact
        self.slack_max_us = self.SLACK_MAX_US  # µs deadlines (see Timer's slack_us)
        self.ticker = None
        self.alarm = None
        self.alarms = 0  # one-shot alarms that fired (tickless boards with a hardware timer)
        self.loop = None

    def ticks_us(self):
        """The board's µs tick clock (wraps at 2**30). ISR-safe, allocation-free."""
        return port.ticks_us()

    def critical_section(self):
        """A new critical section for this board (set-up; not ISR-safe)."""
        from ..sync.critical import default_critical_section

        return default_critical_section()

    def idle(self, us):
        """Wait at most ``us`` µs, or until an interrupt where the board can tell. Not
        ISR-safe: the run loop calls it."""
        from ..sched.runloop import sleep_idle

        sleep_idle(us)

    def start_ticker(self, callback):
        """Call ``callback(arg)`` every ``ticker_us`` from a hardware timer (none here). Not
        ISR-safe (set-up)."""
        self.ticker = None

    def stop_ticker(self):
        """Stop the hardware timer. Not ISR-safe."""
        self.ticker = None

    def start_alarm(self):
        """Make the one-shot hardware timer that ``idle(us)`` arms (none here: the idle wait's
        own timeout ends it). Not ISR-safe (set-up)."""
        self.alarm = None

    def stop_alarm(self):
        """Stop the one-shot hardware timer. Not ISR-safe."""
        self.alarm = None

    def _ring(self, arg=None):
        """The one-shot alarm's callback: it only ends the idle wait (the run loop reads the
        clock). ISR-safe: allocation-free, never blocks."""
        n = self.alarms
        self.alarms = n + 1 if n < 0x3FFFFFFF else 0

    def start_wakeups(self, timer):
        """Start what ends the idle waits: the one-shot alarm on a tickless board, else the
        periodic ticker driving ``timer`` (which may be None). An interrupt level
        (``interrupt_scheduler``) runs on the periodic ticker, so with one the ticker runs on
        a tickless board too. Not ISR-safe (set-up)."""
        if self.tickless:
            self.start_alarm()
        self._drop_closed_levels()
        if not self.tickless or self.interrupt_levels:
            self.start_ticker(self.ticker_callback(timer))

    def stop_wakeups(self):
        """Stop the alarm and the ticker. Not ISR-safe."""
        self.stop_alarm()
        self.stop_ticker()

    def led(self, pin=None):
        """The demo LED (``pin`` overrides ``LED_PIN``). Set-up, not ISR-safe."""
        import machine

        return PinLed(machine.Pin(pin if pin is not None else self.LED_PIN, machine.Pin.OUT))

    def button(self, callback, pin=None):
        """Call ``callback(pin)`` from the interrupt of a button that pulls ``pin`` (default
        ``BUTTON_PIN``) low. The callback runs in interrupt context: keep it to ISR-safe calls
        such as ``WaitCell.wake``. Returns an object whose ``stop()`` detaches it. Set-up, not
        ISR-safe."""
        self._callback_arg(callback, "button(callback)")
        import machine

        p = machine.Pin(pin if pin is not None else self.BUTTON_PIN, machine.Pin.IN,
                        machine.Pin.PULL_UP)
        p.irq(handler=callback, trigger=machine.Pin.IRQ_FALLING)
        return PinButton(p)

    # -- set-up shared by every board -------------------------------------------------------

    def make_timer(self):
        """A shimeji ``Timer`` on this board's clock, ticking every ``tick_us`` (1 µs on a
        tickless board), with the board's ``slack_us`` and ``slack_max_us``. Not ISR-safe."""
        from ..time.timer import SLACK_MAX_US, SLACK_US, Timer

        slack = SLACK_US if self.slack_us is None else self.slack_us
        cap = SLACK_MAX_US if self.slack_max_us is None else self.slack_max_us
        return Timer(clock=self.ticks_us, tick_us=self.tick_us, slack_us=slack,
                     slack_max_us=cap if cap >= slack else slack)

    def scheduler(self, capacity=16, policy=None):
        """A ``StaticScheduler`` with this board's critical section and a timer. Not
        ISR-safe."""
        from ..sched.scheduler import StaticScheduler

        return StaticScheduler(capacity, policy=policy,
                               critical_section=self.critical_section(),
                               timer=self.make_timer())

    def interrupt_scheduler(self, capacity=8, sched=None, policy=None):
        """An ``InterruptScheduler`` on this board: its own timer on the board clock, driven
        by the hardware timer of ``run()``, and ``sched``'s critical section (the board's
        otherwise), which then masks the level. The board lets a level go once it is closed
        (at its next ``interrupt_scheduler()`` or ``run()``). Not ISR-safe (set-up)."""
        from ..sched.interrupt import InterruptScheduler

        if sched is not None and not (hasattr(sched, "poller") and hasattr(sched, "tick")):
            raise BadArgument("interrupt_scheduler(sched=%r): give a scheduler or None" % (sched,))
        self._drop_closed_levels()
        cs = sched.critical_section if sched is not None else self.critical_section()
        isr = InterruptScheduler(capacity, policy=policy, critical_section=cs,
                                 timer=self.make_timer())
        isr.home_sched = sched  # its wakes end sched's loop's idle in poll (unix board)
        if not self.interrupt_levels:
            self.interrupt_levels = []
        self.interrupt_levels.append(isr)
        return isr

    def _callback_arg(self, callback, what):  # (set-up: an interrupt calls it later)
        if not callable(callback):
            raise BadArgument("%s: give a function of one argument, which the interrupt "
                              "calls, got %r" % (what, callback))

    def _drop_closed_levels(self):
        # A closed level is let go (and its timer no longer fed) at the next set-up call.
        if self.interrupt_levels:
            self.interrupt_levels = [i for i in self.interrupt_levels if not i.closed]

    def ticker_callback(self, timer):
        """What the hardware timer calls: ``timer.interrupt``, then the timer interrupt of
        every interrupt level made here (one bound method; ISR-safe, allocation-free)."""
        first = timer.interrupt if timer is not None else _nothing
        self._drop_closed_levels()
        if not self.interrupt_levels:
            return first
        return TickFan([first] + [i.timer.interrupt for i in self.interrupt_levels]).fire

    def make_loop(self, sched, **options):
        """A ``RunLoop`` for ``sched`` that idles with this board's primitive, at most
        ``LONGEST_IDLE_US`` (tickless) or one tick (periodic) at a time. Not ISR-safe."""
        options.setdefault("max_idle_us",
                           self.LONGEST_IDLE_US if self.tickless else self.tick_us)
        # (imported here, not at the top: the run loop's imports reach the task and time
        # packages, and a board module imported from a test nested deep enough ran past the
        # qemu port's 10 KB C stack: "maximum recursion depth exceeded")
        from ..sched.runloop import RunLoop

        self.loop = RunLoop(sched, idle=self.idle, **options)
        return self.loop

    def run(self, main=None, sched=None, capacity=16, **options):
        """Run ``main`` (a coroutine) to completion with the hardware timer driving the
        timer; returns its result. Without ``main``, run until ``board.loop.stop()``.
        The hardware timer is stopped however the loop ends (also on Ctrl-C). Not ISR-safe."""
        if sched is None:
            sched = self.scheduler(capacity)
        loop = self.make_loop(sched, **options)
        handle = sched.spawn(main, "main") if main is not None else None
        self.start_wakeups(sched.timer)
        try:
            return loop.run(handle)
        finally:
            self.stop_wakeups()

    def background(self, sched, **options):
        """Run ``sched`` behind the REPL; returns a started ``background.Background``. Not
        ISR-safe."""
        from ..sched.background import TimerBackground

        bg = TimerBackground(self, self.make_loop(sched, **options))
        bg.start()
        return bg


class TickFan:
    """Calls every callback of ``callbacks`` from one hardware timer: ``fan.fire`` is the
    timer's callback. ISR-safe and allocation-free (a tuple walked in place)."""

    def __init__(self, callbacks):
        self.callbacks = tuple(callbacks)
        self.fire = self._fire  # bound once

    def _fire(self, arg=None):
        for callback in self.callbacks:
            callback(arg)


def _nothing(arg=None):
    pass
