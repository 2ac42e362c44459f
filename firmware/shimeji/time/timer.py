"""``Timer``: a timer wheel driven by a clock and a hardware timer; sleeps and intervals.

The run loop calls ``timer.turn()``: it reads the clock, advances the wheel by the whole ticks
that passed, wakes every task whose deadline came, and returns a reused ``Turn``. A hardware
timer's callback calls ``timer.interrupt()``, which only records that time passed: time itself
comes from the clock, so a missed or late interrupt loses nothing.

Tasks use ``sleep_ms``/``sleep_us``/``sleep_until`` and ``Interval``; each task's sleeps use the
timer entry of its own slot (``slot.timer``), so sleeping allocates nothing and cancelling the
task disarms the entry at once. A sleep never ends early: its deadline is rounded up to a tick
boundary at or after "now + duration", counting the part of the current tick already gone.
"""

import micropython
from micropython import const

from .. import core
from ..errors import DurationTooLong, NoTimer, TimerConfigError, int_arg
from .clock import MAX_TICKS, MAX_US, Clock, wrap_add, wrap_diff
from .wheel import TimerEntry, TimerWheel, check_arm

_MASK = const(0x3FFFFFFF)
_BACKSTEP_LIMIT = const(0x3FFFFFFF - (1 << 20))  # as in clock.py: a reading this far behind
_INTERVAL_MISS = const(15)  # trace.kinds.INTERVAL_MISS


class Turn:
    """What one ``turn()`` did; the timer reuses one Turn object (copy what you keep).

    ``now``: the timer's tick after the turn. ``elapsed``: ticks advanced. ``expired``: entries
    that fired (tasks woken, callbacks run). ``next_in_us``: µs until the timer next needs a
    turn (0: now), or -1 if nothing is armed; clamped to about 9 minutes."""

    def __init__(self):
        self.now = 0
        self.elapsed = 0
        self.expired = 0
        self.next_in_us = -1

    def __repr__(self):
        return "Turn(now=%d, elapsed=%d, expired=%d, next_in_us=%d)" % (
            self.now, self.elapsed, self.expired, self.next_in_us)


class Timer:
    """A timer wheel and the clock that drives it.

    ``clock``: a callable returning wrapping ticks (default ``time.ticks_us``), counting
    ``clock_unit_us`` µs each (1000 for ``time.ticks_ms``). ``tick_us``: the timer's tick,
    default 1 ms. Deadlines are timer ticks, wrapping at 2**30; a duration may be up to
    ``MAX_TICKS`` (2**29 - 1) ticks. Turn it at least once per 2**30 clock units (about 17
    minutes for a µs clock): the run loop does, as it idles at most ``next_in_us``.
    """

    def __init__(self, clock=None, tick_us=1000, clock_unit_us=1):
        self.clock = Clock(clock, tick_us, clock_unit_us)
        self.tick_us = tick_us
        self.wheel = TimerWheel()
        self.pending = False  # set by interrupt(), cleared by turn()
        self.interrupts = 0  # interrupt() calls, wrapping at 2**30
        self.trace = None  # a trace.Trace (set by its attach): wakes are then labelled
        self._turn = Turn()
        per_ms = self.clock._ticks_per_ms
        self._per_ms = per_ms  # ticks per ms when a tick divides 1 ms, else 0
        self._max_ms = MAX_TICKS // per_ms if per_ms else 0  # the longest arm_ms fast path

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
        return wrap_add(self.wheel.now, self.clock.elapsed() // self.clock.per)

    @micropython.native
    def next_in_us(self):
        """µs from now until the timer needs a turn (0: due now), or -1 if nothing is armed.
        Clamped to ``MAX_US`` (about 9 minutes). For tickless idle or a one-shot hardware timer.
        Allocation-free. Not ISR-safe (the run loop may be changing the wheel)."""
        return self._next_in_us(self.clock.elapsed())

    @micropython.native
    def _next_in_us(self, el):
        k = self.wheel.next_deadline_in_ticks()
        if k < 0:
            return -1
        clock = self.clock
        tick_us = clock.tick_us
        us = k * tick_us if k <= MAX_US // tick_us else MAX_US  # us_for_ticks, inlined
        if not el:
            return us
        unit = clock.unit_us
        el_us = el * unit if el <= MAX_US // unit else MAX_US
        return us - el_us if us > el_us else 0

    def ticks_for_ms(self, ms):
        """Whole ticks covering ``ms`` (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        return self.clock.ticks_for_ms(ms)

    def ticks_for_us(self, us):
        """Whole ticks covering ``us`` (rounded up). Raises ``DurationTooLong``. ISR-safe."""
        return self.clock.ticks_for_us(us)

    def after_ms(self, ms):
        """The deadline tick ``ms`` from now (rounded up): for ``sleep_until``. ISR-safe."""
        return wrap_add(self.wheel.now, self._ahead(self.clock.ticks_for_ms(ms)))

    # -- driving the wheel ----------------------------------------------------------------------

    @micropython.native
    def turn(self):
        """Advance the wheel to the clock's now and fire every entry due; returns the reused
        ``Turn``. Allocation-free in steady state. Not ISR-safe: call it from the run loop."""
        clock = self.clock
        el = (clock.source() - clock.base) & _MASK  # clock.elapsed(), inlined
        if el > _BACKSTEP_LIMIT:
            el = 0
        per = clock.per
        n = el // per
        if n:
            el -= n * per
            clock.base = wrap_add(clock.base, n * per)  # clock.take(n), inlined
        self.pending = False
        t = self._turn
        wheel = self.wheel
        if self.trace is None:
            t.expired = wheel.advance(n)
        else:
            t.expired = self.trace.timer_turn(wheel, n)
        t.elapsed = n
        t.now = wheel.now
        t.next_in_us = self._next_in_us(el)
        return t

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
            el = (clock.source() - clock.base) & _MASK
            if el > _BACKSTEP_LIMIT:
                el = 0
            per = clock.per
            # The part of a tick already gone counts as a whole tick (never fire early).
            self.wheel.arm_after(entry, (el + per - 1) // per + ms * self._per_ms)
            return
        if self.tick_us > 1000 and 0 < ms <= MAX_US // 1000:
            delta = self._ahead_us(ms * 1000)  # a ms that is not whole ticks
        else:
            delta = self._ahead(self.clock.ticks_for_ms(ms))
        self.wheel.arm_after(entry, delta)

    def arm_us(self, entry, us):
        """Arm ``entry`` to fire ``us`` µs from now, never earlier (rounded up to the next tick
        boundary). Re-arms an armed entry. O(1), allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(us) is not int:
            check_arm(entry, us, "us", "an int of microseconds")
        self.wheel.arm_after(entry, self._ahead_us(us if us > 0 else 0))

    def arm_at(self, entry, deadline):
        """Arm ``entry`` for the tick ``deadline`` (``ticks_diff`` sense: a deadline in the
        past fires at the next turn). O(1), allocation-free. Not ISR-safe."""
        if type(entry) is not TimerEntry or type(deadline) is not int:
            check_arm(entry, deadline, "deadline", "an int: a timer tick such as timer.now()")
        clock = self.clock
        stale = clock.elapsed() // clock.per
        ahead = wrap_diff(deadline, wrap_add(self.wheel.now, stale))
        self.wheel.arm_after(entry, stale + ahead if ahead > 0 else 0)


def timer_of(slot):
    """The timer of the scheduler running ``slot``; raises ``NoTimer`` if it has none.
    ISR-safe."""
    sched = slot.sched
    timer = None if sched is None else sched.timer
    if timer is None:
        raise NoTimer("this task's scheduler has no timer: make it with "
                      "StaticScheduler(timer=Timer()) or set sched.timer = Timer()")
    return timer


class _Sleep:
    """Singleton behind the sleeps: done once the task's own timer entry has fired."""

    def __init__(self):
        self._stop = core.Finish().exc

    @micropython.native
    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=core.context, _park=core.PARK):  # defaults: locals, no lookups
        slot = _ctx.slot
        if slot is None:
            slot = core.current_slot()  # a worker thread of an executor
        if slot.timer.pos >= 0:
            return _park
        exc = self._stop  # Finish.done(), inlined
        exc.__traceback__ = None
        raise exc


_sleep = _Sleep()


def _not_ms(ms):
    int_arg(ms, "sleep_ms(ms)", "an int of milliseconds (for less than 1 ms use sleep_us(us))")


@micropython.native
def sleep_ms(ms, _ctx=core.context):
    """Awaitable: wait at least ``ms`` milliseconds (rounded up to whole ticks). Allocates
    nothing. Raises ``NoTimer`` without a timer, ``DurationTooLong`` beyond its range.
    Tasks only (not ISR-safe)."""
    slot = _ctx.slot
    if slot is None:
        slot = core.current_slot()  # raises NoCurrentTask
    timer = slot.sched.timer
    if timer is None:
        timer = timer_of(slot)  # raises NoTimer
    if type(ms) is not int:
        _not_ms(ms)
    if 0 < ms <= timer._max_ms:  # Timer.arm_ms's common case, inlined
        clock = timer.clock
        el = (clock.source() - clock.base) & _MASK
        if el > _BACKSTEP_LIMIT:
            el = 0
        per = clock.per
        timer.wheel.arm_after(slot.timer, (el + per - 1) // per + ms * timer._per_ms)
    else:
        timer.arm_ms(slot.timer, ms)
    return _sleep


def sleep_us(us):
    """Awaitable: wait at least ``us`` microseconds (rounded up to whole ticks). Allocates
    nothing. Tasks only (not ISR-safe)."""
    int_arg(us, "sleep_us(us)", "an int of microseconds")
    slot = core.current_slot()
    timer_of(slot).arm_us(slot.timer, us)
    return _sleep


def sleep_until(deadline):
    """Awaitable: wait until the timer's tick ``deadline`` (``timer.now()``, ``after_ms`` and
    ``Turn.now`` are ticks). A deadline in the past (``ticks_diff`` sense) waits for the next
    turn. Allocates nothing. Tasks only (not ISR-safe)."""
    int_arg(deadline, "sleep_until(deadline)", "an int: a timer tick such as "
            "timer.after_ms(100) or timer.now()")
    slot = core.current_slot()
    timer_of(slot).arm_at(slot.timer, deadline)
    return _sleep


class Interval:
    """Drift-free periodic wake-ups: ``await iv`` returns at start + k * period.

    The schedule starts at the first ``await`` (or ``reset()``), and deadlines are absolute, so
    time spent between awaits does not accumulate. A late task is not given a burst of
    catch-up wake-ups: an await that finds deadlines already past returns at once, skips the
    others, and counts them in ``missed``. ``count`` counts completed awaits. One task awaits
    an Interval at a time; it waits on that task's own timer entry. ``await`` allocates nothing.
    """

    def __init__(self, period_ms=0, period_us=0, timer=None):
        int_arg(period_ms, "Interval(period_ms)", "an int of milliseconds", TimerConfigError)
        int_arg(period_us, "Interval(period_us)", "an int of microseconds", TimerConfigError)
        if timer is not None and not isinstance(timer, Timer):
            raise TimerConfigError("Interval(timer=...) must be a Timer, got %r" % (timer,))
        self.period_us = period_ms * 1000 + period_us
        if self.period_us <= 0:
            raise TimerConfigError("an Interval needs a positive period: Interval(period_ms=10)")
        self.timer = None
        self.period = 0  # ticks
        self.next = 0  # the next deadline tick
        self.started = False
        self.missed = 0
        self.count = 0
        self._waiting = False
        self._finish = core.Finish()
        if timer is not None:
            self._bind(timer)

    def _bind(self, timer):
        if self.period_us % timer.tick_us:
            raise TimerConfigError(
                "an Interval of %d µs is not a whole number of %d µs ticks: use a multiple of "
                "the tick, or a Timer with a finer tick_us" % (self.period_us, timer.tick_us))
        period = self.period_us // timer.tick_us
        if period > MAX_TICKS:
            raise DurationTooLong("an Interval of %d ticks is longer than the maximum %d"
                                  % (period, MAX_TICKS))
        self.timer = timer
        self.period = period

    def reset(self):
        """Start the schedule afresh at the next ``await``. Not ISR-safe."""
        self.started = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        slot = core.current_slot()
        entry = slot.timer
        if self._waiting:
            if entry.pos >= 0:
                return core.PARK  # a spurious wake: still armed
            self._waiting = False
        timer = self.timer
        if timer is None:
            self._bind(timer_of(slot))
            timer = self.timer
        period = self.period
        now = timer.now()
        if not self.started:
            self.started = True
            self.next = wrap_add(now, period)
        late = wrap_diff(now, self.next)
        if late < 0:
            timer.arm_at(entry, self.next)
            self._waiting = True
            return core.PARK
        skipped = late // period
        if skipped:
            self.missed = wrap_add(self.missed, skipped)
            if slot.sched._trace is not None:
                slot.sched._trace.record(_INTERVAL_MISS, slot.id, skipped)
        self.next = wrap_add(self.next, (skipped + 1) * period)
        n = self.count
        self.count = n + 1 if n < _MASK else 0
        raise self._finish.done()
