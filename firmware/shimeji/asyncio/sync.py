"""asyncio's ``Event``, ``ThreadSafeFlag`` and ``Lock`` on shimeji's primitives.

Each is a subclass of the shimeji primitive (``Event``, ``WaitCell``, ``Mutex``), so shimeji
tasks and facade tasks wait on the same objects, waiting allocates nothing, and ``set()`` of
an ``Event`` or a ``ThreadSafeFlag`` may be called from an interrupt handler. What differs is
asyncio's surface: ``wait()``/``acquire()`` return True, ``Lock.release()`` may be called by any
task and raises ``RuntimeError`` when the lock is not held.
"""

from .. import core
from ..sync.event import Event as _Event
from ..sync.mutex import Mutex, _Lock
from ..sync.waitcell import WaitCell, _CellWait
from ..sync.waitqueue import WOKEN


def _finish_true():
    finish = core.Finish()
    finish.exc = StopIteration(True)  # re-raised with its traceback cleared: no allocation
    return finish


class Event(_Event):
    """A flag tasks wait for. ``set()`` wakes every waiter (ISR-safe); ``wait()`` returns
    True."""

    def __init__(self):
        _Event.__init__(self)
        self._wait._finish = _finish_true()


class ThreadSafeFlag(WaitCell):
    """A flag one task waits on, set from anywhere: an interrupt handler, a
    ``micropython.schedule`` callback or another thread. ``wait()`` clears it.

    As in MicroPython, where the flag is polled like a stream, a waiter woken by ``set()``
    runs after the tasks already runnable: the facade's loop delivers the wake when it next
    turns (``Loop.fire_flags``)."""

    def __init__(self):
        WaitCell.__init__(self)
        self._wait = _CellWait(self)
        self.flag_next = None  # link in the loop's list of flags to deliver
        self.flag_queued = False

    def set(self):
        """Set the flag; its waiter wakes at the loop's next turn. ISR-safe, allocation-free."""
        state = self._enter()
        slot = self.waiter
        sched = None if slot is None else slot.sched
        loop = None if sched is None else getattr(sched, "loop", None)
        if loop is None:
            self._exit(state)
            self.wake()  # nobody waits (the wake is kept), or a plain shimeji scheduler
            return
        queued = self.flag_queued
        if not queued:
            loop.queue_flag(self)  # (stores only, like the lines around it)
            self.flag_queued = True
        self._exit(state)
        poller = sched.poller
        if not queued and poller is not None:
            poller.ring()  # end the loop's idle in poll, or the next (its doze reads no flag)

    def clear(self):
        """Forget a ``set()`` nobody waited for yet. ISR-safe."""
        self.pending = False

    def is_set(self):
        return self.pending or self.flag_queued


class Lock(Mutex):
    """A fair lock. ``await lock.acquire()`` (returns True) and ``release()``, or ``async with
    lock``. ``locked()`` is False while the lock is handed to a waiter that has not run yet,
    as in MicroPython's asyncio."""

    def __init__(self):
        Mutex.__init__(self)
        self._lock = _LockTrue(self)

    def locked(self):
        if not self._locked:
            return False
        holder = self._holder
        return holder is None or holder.waiting_on is not self._q or (
            holder.wait_status != WOKEN)

    def acquire(self):
        """Awaitable: take the lock, waiting in FIFO order; returns True."""
        return self._lock

    def release(self):
        """Release the lock (any task may); ``RuntimeError`` if it is not held."""
        if not self.locked():
            raise RuntimeError("Lock not acquired")
        self._release()

    def _guard_exit(self, exc_type):
        if self._locked:
            self._release()


class _LockTrue(_Lock):
    def __init__(self, mutex):
        _Lock.__init__(self, mutex)
        self._finish = _finish_true()
