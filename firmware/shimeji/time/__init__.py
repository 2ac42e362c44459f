"""Time: a wrapping tick clock, the timer wheel, and what tasks await on it.

- ``clock``: ``Clock``, ``FakeClock`` and wrap-safe tick arithmetic;
- ``wheel``: ``TimerWheel``, the hierarchical wheel of ``TimerEntry`` lists kept as machine
  words (``wheelentry``: the entry and its O(1) cancel), and ``wheelpass``, the passes a turn
  makes over it (find, hand off), and ``wheelplace``, its placement, cascade, drain and
  advance in viper;
- ``timer``: ``Timer``, the wheel on a clock, turned by a hardware timer or the run loop
  (``timerturn``: the turn, in viper, and the ``Turn`` it returns);
- ``sleep``: what tasks await on it: ``sleep_ms``/``sleep_us``/``sleep_until``; ``interval``:
  ``Interval``;
- ``deadline``: ``timeout(aw, ms)``, a deadline around any awaitable;
- ``seconds``: ``sleep(seconds)`` with an int or a float, as asyncio's.
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.time",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "Clock", "shimeji.time.clock",
        "FakeClock", "shimeji.time.clock",
        "MAX_TICKS", "shimeji.time.clock",
        "wrap_add", "shimeji.time.clock:public_wrap_add",
        "wrap_diff", "shimeji.time.clock:public_wrap_diff",
        "TimerEntry", "shimeji.time.wheelentry",
        "TimerWheel", "shimeji.time.wheel",
        "Timer", "shimeji.time.timer",
        "Turn", "shimeji.time.timerturn",
        "Interval", "shimeji.time.interval",
        "sleep_ms", "shimeji.time.sleep",
        "sleep_us", "shimeji.time.sleep",
        "sleep_until", "shimeji.time.sleep",
        "sleep", "shimeji.time.seconds",
        "timeout", "shimeji.time.deadline",
        "TimeoutGuard", "shimeji.time.deadline",
    ),
)
