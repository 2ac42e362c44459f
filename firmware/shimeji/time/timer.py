"""``Timer``: a timer wheel driven by a clock and a hardware timer.

The run loop calls ``timer.turn()`` (timerturn.py): it reads the clock, advances the wheel by
the whole ticks that passed, wakes every task whose deadline came, and returns a reused
``Turn``. A hardware timer's callback calls ``timer.interrupt()``, which only records that time
passed: time itself comes from the clock, so a missed or late interrupt loses nothing.

What tasks await on a timer (``sleep_ms``, ``sleep_us``, ``sleep_until``, ``Interval``) is in
``sleep.py``; they arm entries through the ``arm*`` methods here, which round every deadline up
to a tick boundary at or after "now + duration", so nothing fires early.
"""


import micropython
from micropython import const

from ..errors import DurationTooLong, NoTimer, TimerConfigError, int_arg
from .clock import MAX_TICKS, MAX_US, Clock, wrap_add, wrap_diff
from .timerturn import Turn, turn
from .wheel import TimerEntry, TimerWheel, check_arm
from .wheelpass import earliest

_MASK = const(0x3FFFFFFF)
_BACKSTEP_LIMIT = const(0x3FFFFFFF - (1 << 20))  # as in clock.py: a reading this far behind
_MAX_US = const(0x1FFFFFFF)  # clock.MAX_US, a constant here (an imported name is a lookup)
_W_NOW = const(26)  # TimerWheel._w's indexes (wheel.py)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_BASE = const(32)
_W_CONF = const(40)
SLACK_US = const(64)  # the default slack of a millisecond deadline: at least this many µs
SLACK_MAX_US = const(1024)  # and at most this many (see Timer)
CAPACITY = const(32)  # a Timer's entries by default: a default StaticScheduler's 16 slots x 2


class Timer:
    """A timer wheel and the clock that drives it.

    ``clock``: a callable returning wrapping ticks (default ``time.ticks_us``), counting
    ``clock_unit_us`` µs each (1000 for ``time.ticks_ms``). ``tick_us``: the timer's tick,
    default 1 ms. Deadlines are timer ticks, wrapping at 2**30; a duration may be up to
    ``MAX_TICKS`` (2**29 - 1) ticks. Turn it at least once per 2**30 clock units (about 17
    minutes for a µs clock): the run loop does, as it idles at most ``next_in_us``.

    ``slack_us``, ``slack_max_us``: how late a millisecond deadline (``sleep_ms``, ``arm_ms``)
    may fire, so that the deadlines close together fire in one turn (deadline coalescing, as
    Linux's timer slack): 1 µs per ms of the sleep (0.1 %), at least ``slack_us``, at most
    ``slack_max_us``, rounded down to a power of two ticks; the deadline is rounded up to a
    multiple of it. Never early. No effect below two ticks (a 1 ms tick: none by default).
    ``slack_us=0``: no slack, µs deadlines exactly (``sleep_us``, ``sleep_until`` always are).
    ``now``: the tick the wheel starts at (tests of the 2**30 wrap start just before it).
    ``capacity``: entries armed at once without growing (each sleeping task holds one, each
    ``timeout`` one more; a ``StaticScheduler`` reserves 2 per slot): the wheel's words are one
    block of 2,736 + 16 per entry bytes, made once (docs/timer.md, "What a timer costs").
    """

    def __init__(self, clock=None, tick_us=1000, clock_unit_us=1, slack_us=SLACK_US,
                 slack_max_us=SLACK_MAX_US, now=0, capacity=CAPACITY):
        # (fixed for the timer's life: the clock shares its ints)
        self.wheel = TimerWheel(now, capacity)
        # The clock's base lives in the wheel's int array, next to now (see TimerWheel).
        self.clock = Clock(clock, tick_us, clock_unit_us, self.wheel._w, _W_BASE)
        self._source = self.clock.source  # (fixed: sleep_ms and turn read it in one load)
        self.tick_us = tick_us
        self.pending = False  # set by interrupt(), cleared by turn()
        self.interrupts = 0  # interrupt() calls, wrapping at 2**30
        self.trace = None  # a trace.Trace (set by its attach): wakes are then labelled
        self._turn = Turn()
        per_ms = self.clock._ticks_per_ms
        self._per_ms = per_ms  # ticks per ms when a tick divides 1 ms, else 0
        self._max_ms = MAX_TICKS // per_ms if per_ms else 0  # the longest arm_ms fast path
        int_arg(slack_us, "Timer(slack_us)", "an int of µs (0: no slack)", TimerConfigError)
        int_arg(slack_max_us, "Timer(slack_max_us)", "an int of µs", TimerConfigError)
        if slack_us < 0 or slack_max_us < slack_us:
            raise TimerConfigError("Timer(slack_us=%d, slack_max_us=%d): use 0 <= slack_us <= "
                                   "slack_max_us" % (slack_us, slack_max_us))
        self.slack_us = slack_us
        self.slack_max_us = slack_max_us
        self._slack = self.slack_mask(0)  # the mask of a sleep shorter than _slack_ms
        self._slack_ms = _pow2_floor(slack_us) * 2  # where 1 µs per ms passes slack_us
        if not slack_us or self._slack_ms > slack_max_us:
            self._slack_ms = _MAX_US  # the slack never grows with the sleep
        # The same constants as words of the wheel's array (from _W_CONF: sleep.py's and
        # timerturn.py's _C_* indexes), which sleep_ms and turn (viper) read through the
        # pointer they take to the wheel's words anyway: no load or subscript of their own.
        c = self.clock
        w = self.wheel
        ws = w._w
        for k, v in enumerate((self._max_ms, c.per, per_ms, self._slack_ms, self._slack,
                               c.tick_us, c.unit_us)):
            ws[_W_CONF + k] = v
        # What sleep_ms and turn read of the timer, in one tuple: a subscript each, not an
        # attribute look-up (all fixed for the timer's life). [0] is free (the constants'
        # array, before they moved into the wheel's words).
        self._kit = (None, w, ws, self._source, w._obj, self, self._turn, w._ht)

    def __repr__(self):
        return "<Timer tick_us=%d now=%d armed=%d>" % (
            self.tick_us, self.wheel.now, self.wheel.pending)

    # -- the interrupt side ---------------------------------------------------------------------

    def interrupt(self, arg=None):
        """Record that time passed. ISR-safe: no allocation, no wheel walk, never blocks; pass
        ``timer.interrupt`` as a ``machine.Timer`` callback (it takes the timer argument)."""
        n = self.interrupts
        self.interrupts = n + 1 if n < _MASK else 0
        self.pending = True

    # -- reading time ---------------------------------------------------------------------------

    def now(self):
        """The current tick, read from the clock (the wheel may lag until the next turn).
        ISR-safe and allocation-free."""
        return wrap_add(self.wheel._w[_W_NOW], self.clock.elapsed() // self.clock.per)

    @micropython.native
    def next_in_us(self):
        """µs from now until the timer needs a turn (0: due now), or -1 if nothing is armed.
        Clamped to ``MAX_US`` (about 9 minutes). For tickless idle or a one-shot hardware timer.
        Allocation-free. Not ISR-safe (the run loop may be changing the wheel)."""
        return self._next_in_us(self.clock.elapsed())

    @micropython.native
    def _next_in_us(self, el):
        wheel = self.wheel
        ws = wheel._w
        if not ws[_W_PENDING]:
            return -1
        nxt = ws[_W_NEXT]  # wheel.next_deadline_in_ticks(), inlined
        if nxt >= 0:
            k = (nxt - ws[_W_NOW]) & _MASK
        else:
            k = wheel.next_in_ticks()
        pos = ws[_W_STEP]
        if k > 0 and pos >= 64:
            k = earliest(wheel, pos, k)  # a lone far sleeper is not woken early
        clock = self.clock
        tick_us = clock.tick_us
        us = k * tick_us if k <= _MAX_US // tick_us else _MAX_US  # us_for_ticks, inlined
        if not el:
            return us
        unit = clock.unit_us
        el_us = el * unit if el <= _MAX_US // unit else _MAX_US
        return us - el_us if us > el_us else 0

    def slack_mask(self, ms):
        """The slack of an ``ms`` ms deadline as a mask of ticks (``2**k - 1``, 0: none): the
        deadline is rounded up to a multiple of ``mask + 1``. ISR-safe, allocation-free."""
        if not self.slack_us:
            return 0
        us = ms if ms > self.slack_us else self.slack_us  # 1 µs per ms of the sleep
        if us > self.slack_max_us:
            us = self.slack_max_us
        return _pow2_floor(us // self.tick_us) - 1

    def ticks_for_ms(self, ms):
        """Whole ticks covering ``ms`` (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        return self.clock.ticks_for_ms(ms)

    def ticks_for_us(self, us):
        """Whole ticks covering ``us`` (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        return self.clock.ticks_for_us(us)

    def after_ms(self, ms):
        """The deadline tick ``ms`` from now (rounded up): for ``sleep_until``. ISR-safe."""
        if type(ms) is not int:  # (a float made a float tick; a str, a bare TypeError)
            int_arg(ms, "after_ms(ms)", "an int of milliseconds")
        return wrap_add(self.wheel.now, self._ahead(self.clock.ticks_for_ms(ms)))

    # -- driving the wheel ----------------------------------------------------------------------

    turn = turn  # (timerturn.py, in viper)

    # -- arming entries -------------------------------------------------------------------------

    def _ahead(self, ticks):
        """``ticks`` after now, counted from the wheel's tick, with the current partial tick
        rounded up: the entry never fires before now + ticks."""
        clock = self.clock
        per = clock.per
        return (clock.elapsed() + per - 1) // per + ticks  # a partial tick counts as whole

    def arm_ticks(self, entry, ticks):
        """Arm ``entry`` (a ``TimerEntry``) to fire ``ticks`` whole ticks from now, never
        earlier. Re-arms an armed entry. O(1), allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(ticks) is not int:
            check_arm(entry, ticks, "ticks", "an int of timer ticks")
        if ticks > MAX_TICKS:
            raise DurationTooLong("%d ticks is more than the timer's maximum of %d"
                                  % (ticks, MAX_TICKS))
        self.wheel.arm_after(entry, self._ahead(ticks))

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def _ahead_us(self, us):
        """Ticks from the wheel's tick to the first tick boundary at or after now + ``us``."""
        clock = self.clock
        el = clock.elapsed()
        per = clock.per
        stale = el // per
        frac_us = (el - stale * per) * clock.unit_us  # the part of the current tick gone
        return stale + clock.ticks_for_us(frac_us + us)

    @micropython.native
    def arm_ms(self, entry, ms):
        """Arm ``entry`` to fire ``ms`` ms from now, never earlier (rounded up to the next tick
        boundary). Re-arms an armed entry. O(1), allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(ms) is not int:
            check_arm(entry, ms, "ms", "an int of milliseconds")
        if 0 < ms <= self._max_ms:  # a tick divides 1 ms: _ahead and ticks_for_ms, inlined
            clock = self.clock
            el = (self._source() - self.wheel._w[_W_BASE]) & _MASK
            if el > _BACKSTEP_LIMIT:
                el = 0
            per = clock.per
            # The part of a tick already gone counts as a whole tick (never fire early).
            delta = (el + per - 1) // per + ms * self._per_ms
            mask = self._slack if ms < self._slack_ms else self.slack_mask(ms)
            if mask:
                delta = slack_delta(mask, self.wheel.now, delta)
            self.wheel.arm_after(entry, delta)
            return
        if self.tick_us > 1000 and 0 < ms <= MAX_US // 1000:
            delta = self._ahead_us(ms * 1000)  # a ms that is not whole ticks
        else:
            delta = self._ahead(self.clock.ticks_for_ms(ms))
        mask = self.slack_mask(ms)
        if mask and delta > 0:
            delta = slack_delta(mask, self.wheel.now, delta)
        self.wheel.arm_after(entry, delta)

    def arm_us(self, entry, us):
        """Arm ``entry`` to fire ``us`` µs from now, never earlier (rounded up to the next tick
        boundary). Re-arms an armed entry. O(1), allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(us) is not int:
            check_arm(entry, us, "us", "an int of microseconds")
        self.wheel.arm_after(entry, self._ahead_us(us if us > 0 else 0))

    def arm_at(self, entry, deadline):
        """Arm ``entry`` for the tick ``deadline`` (``ticks_diff`` sense: a deadline in the
        past fires at the next turn, in deadline order with the entries due by then). O(1),
        allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(deadline) is not int:
            check_arm(entry, deadline, "deadline", "an int: a timer tick such as timer.now()")
        # Counted from the wheel's tick, not the clock's: a deadline the clock has passed but
        # the wheel (not turned since) has not goes to its own slot, and the next turn fires
        # it after the earlier deadlines it passes on the way. (It went to the due list, which
        # fires first: on the classic ESP32 in qemu asyncio's timeout(), armed ~9 ms after
        # its deadline was computed, cancelled its task before a sleep due 1 ms earlier woke.)
        ahead = wrap_diff(deadline, self.wheel.now)
        self.wheel.arm_after(entry, ahead if ahead > 0 else 0)


def _pow2_floor(n):
    """The largest power of two at most ``n`` (1 for ``n`` below 2)."""
    p = 1
    while p <= n >> 1:
        p <<= 1
    return p


def slack_delta(mask, now, delta):
    """``delta`` ticks after ``now``, made longer so that the deadline is a multiple of
    ``mask + 1`` (wrap-safe: no intermediate reaches 2**30). ISR-safe."""
    r = ((now & mask) + (delta & mask)) & mask
    return delta + mask + 1 - r if r else delta


def timer_of(slot):
    """The timer of the scheduler running ``slot``; raises ``NoTimer`` if it has none.
    ISR-safe."""
    sched = slot.sched
    timer = None if sched is None else sched.timer
    if timer is None:
        raise NoTimer("this task's scheduler has no timer: make it with "
                      "StaticScheduler(timer=Timer()) or set sched.timer = Timer()")
    return timer


def __getattr__(name):
    # The sleeps moved to sleep.py: ``from shimeji.time.timer import sleep_ms`` keeps working.
    if name in ("sleep_ms", "sleep_us", "sleep_until"):
        from . import sleep

        return getattr(sleep, name)
    if name == "Interval":
        from .interval import Interval

        return Interval
    raise AttributeError("module 'shimeji.time.timer' has no attribute '%s'" % name)
