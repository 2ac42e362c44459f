"""``early_idle``: the run loop's idle primitive asked to end a little before the deadline, the
rest spun on the clock, for hosts whose sleep ends late (``RunLoop``'s ``wake_early_us``).

A hosted port's sleep (``time.sleep_us``) ends after the kernel's timer slack and its wake-up:
on the Linux hosts measured, most sleeps end 50-90 µs past the µs asked (docs/benchmarks.md,
"Session 23: lateness"). Asked ``early_us`` µs less, such a sleep still mostly ends at or after
the deadline, so nothing is spun and the sleeper is that much less late; when it ends before,
the rest is a spin on the clock, at most ``early_us`` µs. A wait of at most ``early_us`` µs is
asked as it is: shortened, it would end before the deadline every time and only spin, or wake
the loop once more. On a board the one-shot alarm ends ``machine.idle()`` within µs of the
deadline: nothing to anticipate there (the default is 0, ``port.WAKE_EARLY_US``).

Never early: the run loop's turn wakes a sleeper only once its deadline has passed, so a spin
that stops short (its bound in clock reads: a clock that does not move, such as a test's
``FakeClock``, ends it) costs one more trip round the loop, no early wake. One idle stays one
idle: the spin is inside it (an idle board with one far deadline still wakes once).
"""

import micropython
from micropython import const

_MASK = const(0x3FFFFFFF)  # the clock's ticks wrap below 2**30
_HALF = const(0x1FFFFFFF)
_READS_PER_US = const(8)  # the spin's bound: clock reads per µs anticipated


def early_idle(idle, early_us, source, unit_us=1):
    """``idle`` (an ``idle(us)`` primitive) asked to end ``early_us`` µs before each wait's end,
    the rest spun on ``source`` (wrapping ticks of ``unit_us`` µs). Returns the new primitive,
    which allocates nothing. Set-up: not ISR-safe."""
    early = early_us
    unit = unit_us
    # (four names closed over, no more: a closure's call with five words or more of closed
    # names and arguments takes its argument array from the heap)

    @micropython.native
    def idle_early(us):
        if us <= early:
            idle(us)
            return
        end = (source() + us // unit) & _MASK
        idle(us - early)
        n = early * _READS_PER_US
        while n:
            left = (end - source()) & _MASK
            if left == 0 or left > _HALF:  # the end reached, or passed (wrapped)
                return
            n -= 1

    return idle_early
