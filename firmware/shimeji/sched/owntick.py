"""What every port's FIFO ticks share, apart from the native tick (fastpath.py), so that rp2
need not load that tick's code: ``base_complete`` and rp2's ``tick_own``.

On rp2 (no GIL) every scheduler ticks with a viper closure of its own (``wordtick.bind``,
made in ``StaticScheduler.__init__``; an executor worker makes its own too), called by
``tick_own``. fastpath.py's native ``tick_fifo`` is then never called there: wordtick.py's
viper tick hands it a worker's tick only where a worker ticks with a binding not its own,
which no rp2 scheduler does. So rp2 does not import fastpath.py: ~10 KB of heap when shimeji
runs from armv6m ``.mpy`` files (docs/boards.md, "RP2040, session 22").
"""

import micropython

from .endtick import end_tick  # noqa: F401 (StaticScheduler._end_tick reads it here)

base_complete = [None]  # StaticScheduler._complete (scheduler.py sets it: it imports this)


@micropython.native
def tick_own(sched, n):
    """rp2's ``tick_fifo``: ``sched``'s own viper tick (``wordtick.bind``, made in __init__)."""
    return sched._tick_own(sched, n)
