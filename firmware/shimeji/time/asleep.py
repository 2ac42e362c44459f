"""What a sleep returns for ``await``: the ring sleep's iterator, or ``_Sleep``.

``sleep_ms``, ``sleep_us`` and ``sleep_until`` (sleep.py) arm the calling task's own timer
entry (``slot.timer``) and return one of these; the await then parks the task until that entry
fires. Kept apart from sleep.py, which finds the task and arms the entry, for its length only.
"""

import micropython

from .. import core, port


class _Sleep:
    """Singleton behind the sleeps: done once the task's own timer entry has fired."""

    def __init__(self):
        self._stop = core.Finish().exc
        if port.IS_MICROPYTHON:  # __next__ in the instance's own table (io/readop.py's note)
            self.__next__ = self.__next__

    @micropython.native
    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        slot = _ctx.slot
        if slot is None or _threads:  # executor workers: the calling thread tells (core.py)
            slot = core.current_slot()
        if slot.w[4] < 0xFFFF:  # its timer still armed (task/words.py W_TPOS)
            return _park
        exc = self._stop  # Finish.done(), inlined
        exc.__traceback__ = None
        raise exc


_sleep = _Sleep()

# The ring sleep (MicroPython): sleep_ms appends core.SLEEP to a small deque of its own and
# returns the deque's C iterator, as core.yield_now does with None. ``await`` takes the item
# (the task yields SLEEP: the scheduler parks it until its timer entry fires, ignoring other
# wakes) and on the next poll finds none and finishes, without a call or a raise: _Sleep's
# __iter__, two __next__ calls and a raise per sleep were about 5k instructions. One iterator
# serves every task of the interpreter: each await takes the item its sleep_ms appended before
# another task runs. An item left by a sleep_ms that was not awaited is harmless: the next
# ring await takes it too, and the scheduler requeues a SLEEP whose entry is not armed. Worker
# threads of an executor and interrupt-level tasks (which may run between a thread-level
# task's append and its await) keep _Sleep. None where deque iteration is missing (CPython).
_ring = core.new_yield_ring()
_ring_append = _ring[0] if _ring is not None else None
_ring_iter = _ring[1] if _ring is not None else None


def _no_ring(item):
    """The ring's append where there is no ring (CPython): sleep_ms then returns _Sleep."""
