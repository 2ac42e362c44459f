"""Time: a wrapping tick clock, the timer wheel, and what tasks await on it.

- ``clock``: ``Clock``, ``FakeClock`` and wrap-safe tick arithmetic;
- ``wheel``: ``TimerWheel``, the hierarchical wheel of intrusive ``TimerEntry`` links;
- ``timer``: ``Timer`` (the wheel on a clock, turned by a hardware timer or the run loop),
  ``sleep_ms``/``sleep_us``/``sleep_until`` and ``Interval``;
- ``deadline``: ``timeout(aw, ms)``, a deadline around any awaitable.
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.time",
    {
        "Clock": "shimeji.time.clock",
        "FakeClock": "shimeji.time.clock",
        "MAX_TICKS": "shimeji.time.clock",
        "wrap_add": "shimeji.time.clock",
        "wrap_diff": "shimeji.time.clock",
        "TimerEntry": "shimeji.time.wheel",
        "TimerWheel": "shimeji.time.wheel",
        "Timer": "shimeji.time.timer",
        "Turn": "shimeji.time.timer",
        "Interval": "shimeji.time.timer",
        "sleep_ms": "shimeji.time.timer",
        "sleep_us": "shimeji.time.timer",
        "sleep_until": "shimeji.time.timer",
        "timeout": "shimeji.time.deadline",
        "TimeoutGuard": "shimeji.time.deadline",
    },
)
