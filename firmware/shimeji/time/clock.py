"""Time for the timer: a wrapping hardware tick source, a tick duration, and a fake clock.

A ``Clock`` turns a source such as ``time.ticks_us`` (or ``time.ticks_ms``, with
``source_unit_us=1000``) into timer *ticks* of ``tick_us`` microseconds. Timer ticks and source
readings both wrap at 2**30, like MicroPython's ``ticks_*`` on 32-bit boards, so every value
stays a small int. The helpers here do that arithmetic without an intermediate ever reaching
2**30 (``a + b`` of two ticks would: on a 32-bit board that makes a heap int). They do not use
``time.ticks_add``/``ticks_diff``, whose period is 2**62 on 64-bit unix builds.
"""

from array import array

from micropython import const

from .. import port
from ..errors import BadArgument, BadDuration, DurationTooLong, TimerConfigError, int_arg

_MASK = const(0x3FFFFFFF)  # ticks wrap at 2**30
# Readings within this many source units *behind* the tick base count as a backward step.
_BACKSTEP_LIMIT = const(0x3FFFFFFF - (1 << 20))
_HALF_MAX = const(0x1FFFFFFF)
MAX_TICKS = _HALF_MAX  # the longest duration, in ticks: half the wrap period
MAX_US = _HALF_MAX  # durations reported in µs (next_in_us) are clamped to this


def wrap_add(a, b):
    """``(a + b) % 2**30`` for ``a``, ``b`` in [0, 2**30), never leaving small ints. ISR-safe."""
    s = a - _MASK + b  # = a + b - 2**30 + 1
    if s > 0:
        return s - 1
    return s + _MASK


def wrap_diff(a, b):
    """Signed ``a - b`` of two wrapping ticks, in [-2**29, 2**29), like ``ticks_diff``.
    ISR-safe."""
    x = (a - b) & _MASK
    if x > _HALF_MAX:
        return x - _MASK - 1
    return x


# The public ``shimeji.wrap_add``/``wrap_diff`` (the packages' lazy names): the same with their
# arguments checked, which gave a float, a wrong tick or a bare TypeError. shimeji's own hot
# paths import the two above, which check nothing (a check per call on every timer turn).
def public_wrap_add(a, b):
    """``wrap_add`` refusing what is not two ticks (ints in [0, 2**30)) with ``BadArgument``.
    ISR-safe (a refusal on a locked heap: MemoryError)."""
    if type(a) is not int or type(b) is not int or not (0 <= a <= _MASK and 0 <= b <= _MASK):
        raise BadArgument("wrap_add(%r, %r): give two ticks, ints in [0, 2**30) (a timer's "
                          "now(), a number of ticks)" % (a, b))
    return wrap_add(a, b)


def public_wrap_diff(a, b):
    """``wrap_diff`` refusing what is not two ints with ``BadArgument``. ISR-safe (a refusal
    on a locked heap: MemoryError)."""
    if type(a) is not int or type(b) is not int:
        raise BadArgument("wrap_diff(%r, %r): give two ticks (ints: a timer's now(), a "
                          "deadline)" % (a, b))
    return wrap_diff(a, b)


class Clock:
    """A tick source and a tick duration.

    ``source()`` returns wrapping ticks of ``source_unit_us`` µs (default ``port.ticks_us``,
    resolved at construction, never at import). ``tick_us`` is the timer's tick: a multiple of
    the source unit, and a divisor or a multiple of 1000 so that milliseconds convert exactly.
    ``base`` is the source reading where the timer's current tick began. It lives in the
    int array ``ints`` at index ``at`` (a Timer hands its wheel's array, so that the viper
    paths read it as a machine word: ``TimerWheel._w``); by default an array of its own.
    """

    def __init__(self, source=None, tick_us=1000, source_unit_us=1, ints=None, at=0):
        if source is None:
            source = port.ticks_us
        elif not callable(source):
            raise TimerConfigError("the clock must be a function returning ticks, such as "
                                   "time.ticks_us or a FakeClock(), got %r" % (source,))
        if type(tick_us) is not int or tick_us < 1:
            raise TimerConfigError("tick_us must be a positive int (µs per timer tick)")
        if type(source_unit_us) is not int or source_unit_us < 1 or tick_us % source_unit_us:
            raise TimerConfigError(
                "tick_us (%d) must be a multiple of the clock's unit (%r µs): a tick cannot be "
                "finer than the clock that counts it" % (tick_us, source_unit_us))
        if (1000 % tick_us if tick_us < 1000 else tick_us % 1000) or tick_us > 1000000:
            raise TimerConfigError(
                "tick_us=%d: use a divisor of 1000 (1, 2, 5, 10, 100, 250, 500, 1000...) or a "
                "multiple of 1000 up to 1000000, so that milliseconds are whole ticks" % tick_us)
        self.source = source
        self.tick_us = tick_us
        self.unit_us = source_unit_us
        self.per = tick_us // source_unit_us  # source units per timer tick
        self._ticks_per_ms = 1000 // tick_us if tick_us <= 1000 else 0
        self._ms_per_tick = tick_us // 1000
        self._ints = ints if ints is not None else array("i", [0])
        self._at = at
        self._ints[at] = source() & _MASK

    @property
    def base(self):
        """The source reading where the timer's current tick began. ISR-safe (a read)."""
        return self._ints[self._at]

    @base.setter
    def base(self, reading):
        self._ints[self._at] = reading

    def elapsed(self):
        """Source units since the current tick began (≥ 0). ISR-safe, allocation-free.

        A source that steps back a little (qemu's ``ticks_us`` jitters by up to 1 ms) reads
        as no time passed, not as 2**30 units: the timer then waits for the source to catch up,
        so a sleep still never ends early."""
        d = (self.source() - self._ints[self._at]) & _MASK
        if d > _BACKSTEP_LIMIT:
            return 0
        return d

    def take(self, n):
        """Move ``base`` on by ``n`` whole ticks (the timer advanced by ``n``). Not ISR-safe."""
        ints = self._ints
        ints[self._at] = wrap_add(ints[self._at], n * self.per)

    def ticks_for_us(self, us):
        """Whole ticks covering ``us`` µs (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        if us <= 0:
            return 0
        t = self.tick_us
        n = us // t
        if us - n * t:
            n += 1
        if n > MAX_TICKS:
            self._too_long(us, "µs")
        return n

    def ticks_for_ms(self, ms):
        """Whole ticks covering ``ms`` ms (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        if ms <= 0:
            return 0
        per_ms = self._ticks_per_ms
        if per_ms:
            if ms > MAX_TICKS // per_ms:
                self._too_long(ms, "ms")
            return ms * per_ms
        m = self._ms_per_tick
        n = ms // m
        if ms - n * m:
            n += 1
        if n > MAX_TICKS:
            self._too_long(ms, "ms")
        return n

    def us_for_ticks(self, n):
        """``n`` ticks in µs, clamped to ``MAX_US`` (about 9 minutes). ISR-safe."""
        if n > MAX_US // self.tick_us:
            return MAX_US
        return n * self.tick_us

    def _too_long(self, value, unit):
        raise DurationTooLong(
            "%d %s is too long: the timer holds at most %d ticks of %d µs (%d ms); use a "
            "coarser tick_us, or wait in a loop of shorter sleeps"
            % (value, unit, MAX_TICKS, self.tick_us, MAX_TICKS * self.tick_us // 1000))


class FakeClock:
    """A clock for tests: call it for the current µs ticks, move it by hand.

    ``advance(n)`` moves it ``n`` timer ticks of ``tick_us``; ``advance_us(us)`` by µs;
    ``jump(timer)`` to the timer's next deadline. Wraps at 2**30 like the real ticks.
    """

    def __init__(self, start_us=0, tick_us=1000):
        int_arg(start_us, "FakeClock(start_us)", "an int of µs", TimerConfigError)
        int_arg(tick_us, "FakeClock(tick_us)", "an int of µs per timer tick", TimerConfigError)
        self.t = start_us & _MASK
        self.tick_us = tick_us

    def __call__(self):
        """The current µs ticks. ISR-safe."""
        return self.t

    def advance_us(self, us):
        """Move on ``us`` µs. Not ISR-safe (a test tool)."""
        if type(us) is not int or us < 0:  # (backwards made a negative tick: not a tick)
            int_arg(us, "advance_us(us)", "an int of µs")
            raise BadDuration("advance_us(%d): a FakeClock only moves on; give us >= 0" % us)
        while us > _HALF_MAX:
            self.t = wrap_add(self.t, _HALF_MAX)
            us -= _HALF_MAX
        self.t = wrap_add(self.t, us)
        return self.t

    def advance(self, n=1):
        """Move on ``n`` timer ticks. Not ISR-safe (a test tool)."""
        if type(n) is not int or n < 0:
            int_arg(n, "advance(n)", "an int of timer ticks")
            raise BadDuration("advance(%d): a FakeClock only moves on; give n >= 0" % n)
        return self.advance_us(n * self.tick_us)

    def jump(self, timer):
        """Move to ``timer``'s next deadline; returns the µs moved, or -1 if none is armed.
        Not ISR-safe (a test tool)."""
        us = timer.next_in_us()
        if us > 0:
            self.advance_us(us)
        return us
