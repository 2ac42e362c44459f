"""``Interval``: drift-free periodic wake-ups on the awaiting task's own timer entry.

Kept apart from sleep.py (the one-shot sleeps) for its length only.
"""

import micropython
from micropython import const

from .. import core
from ..errors import DurationTooLong, TimerConfigError, int_arg
from .clock import MAX_TICKS, wrap_add, wrap_diff
from .timer import Timer, timer_of

_MASK = const(0x3FFFFFFF)
_INTERVAL_MISS = const(15)  # trace.kinds.INTERVAL_MISS


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

    def _follow(self, mine, timer):
        # The task moved to another worker of an executor: each wheel belongs to its worker's
        # thread, so the schedule moves to this worker's timer, the next deadline kept.
        left = wrap_diff(self.next, timer.now())
        self._bind(mine)
        self.next = wrap_add(mine.now(), left)
        return mine

    def reset(self):
        """Start the schedule afresh at the next ``await``. Not ISR-safe."""
        self.started = False

    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def __next__(self):
        slot = core.current_slot()
        if self._waiting:
            if slot.w[4] < 0xFFFF:  # slot.timer still armed (task/words.py W_TPOS)
                return core.PARK  # a spurious wake: still armed
            self._waiting = False
        timer = self.timer
        if timer is None:
            self._bind(timer_of(slot))
            timer = self.timer
        elif slot.sched.parallel and slot.sched.timer is not timer:
            timer = self._follow(slot.sched.timer, timer)
        period = self.period
        now = timer.now()
        if not self.started:
            self.started = True
            self.next = wrap_add(now, period)
        late = wrap_diff(now, self.next)
        if late < 0:
            timer.arm_at(slot.timer, self.next)
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
