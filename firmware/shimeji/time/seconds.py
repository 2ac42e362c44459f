"""``sleep(seconds)``: asyncio's sleep, with an int or float number of seconds.

``sleep_ms``/``sleep_us`` with an int are the allocation-free way to wait; ``sleep(0.25)``
converts once (a float allocates on MicroPython) and then waits exactly as ``sleep_ms`` does.
"""

from micropython import const

from ..core import yield_now
from ..errors import BadDuration, DurationTooLong
from .sleep import sleep_ms

_MAX_S = const(1073741)  # 2**30 ms: past it the ms count would not be a small int


def sleep(seconds):
    """Awaitable: wait at least ``seconds`` (int or float; rounded up to whole ms). Zero or a
    negative number yields once (``yield_now``), as asyncio's ``sleep(0)`` does. Raises
    ``NoTimer`` without a timer, ``DurationTooLong`` beyond the timer's range. Tasks only
    (not ISR-safe). ``BadDuration`` for what is not an int or float (or NaN)."""
    if type(seconds) is not int and type(seconds) is not float or seconds != seconds:
        raise BadDuration("sleep(seconds) must be an int or float number of seconds, got %r"
                          % (seconds,))
    if seconds > _MAX_S:
        raise DurationTooLong("sleep(%r): give at most %d seconds; wait longer in a loop of "
                              "shorter sleeps" % (seconds, _MAX_S))
    if seconds <= 0:
        return yield_now()
    ms = int(seconds * 1000)
    if ms < seconds * 1000:
        ms += 1  # never wake early: a fraction of a ms counts as a whole one
    return sleep_ms(ms)
