"""``sleep(seconds)``: asyncio's sleep, with an int or float number of seconds.

``sleep_ms``/``sleep_us`` with an int are the allocation-free way to wait; ``sleep(0.25)``
converts once (a float allocates on MicroPython) and then waits exactly as ``sleep_ms`` does.
"""

from ..core import yield_now
from .sleep import sleep_ms


def sleep(seconds):
    """Awaitable: wait at least ``seconds`` (int or float; rounded up to whole ms). Zero or a
    negative number yields once (``yield_now``), as asyncio's ``sleep(0)`` does. Raises
    ``NoTimer`` without a timer, ``DurationTooLong`` beyond the timer's range. Tasks only
    (not ISR-safe)."""
    if seconds <= 0:
        return yield_now()
    ms = int(seconds * 1000)
    if ms < seconds * 1000:
        ms += 1  # never wake early: a fraction of a ms counts as a whole one
    return sleep_ms(ms)
