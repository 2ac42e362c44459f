"""``WaitMap``: tasks wait on a key; a waker delivers a value to the waiter of a key.

Request/response matching: a task sends a request tagged with an id and ``await
wm.wait(id)``; whoever receives the response (a task, or an interrupt handler reading a bus)
calls ``wm.wake(id, value)`` and the waiting task gets ``value``. Waiters are their tasks'
slots, linked in one list and searched by key (a linear scan: meant for a handful of
outstanding requests). A wake for a key nobody waits on returns False and is not kept.
"""

from .. import core
from ..errors import WaiterBusy
from .waitqueue import (
    CLOSED,
    WAITING,
    WOKEN,
    Awaitable,
    WaitQueue,
    accept,
    closed_error,
    finish_with,
)


class WaitMap:
    """Waiters keyed by value (ints or short strings compare without allocating).
    ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        self._q = WaitQueue(critical_section)
        self._wait = _MapWait(self)

    def wait(self, key):
        """Awaitable: park until ``wake(key, value)``; returns ``value``. Raises
        ``WaiterBusy`` if another task waits on ``key``, ``PrimitiveClosed`` if closed.
        Allocates one small object when ``value`` is not None. Not ISR-safe: await it at once
        in a task."""
        core.current_slot().wait_key = key
        return self._wait

    def wake(self, key, value=None):
        """Deliver ``value`` to the task waiting on ``key``; True if there was one. ISR-safe,
        allocation-free (O(waiters) inside the critical section)."""
        q = self._q
        state = q._enter()
        slot = q.head
        while slot is not None:
            if slot.wait_key == key:
                slot.wait_value = value
                q.release(slot, WOKEN)
                q._exit(state)
                return True
            slot = slot.wait_next
        q._exit(state)
        return False

    def close(self):
        """Wake every waiter with ``PrimitiveClosed``; later waits raise it. ISR-safe."""
        self._q.close()

    def waiters(self):
        """How many tasks wait. ISR-safe."""
        return self._q.count

    def is_waiting(self, key):
        """True if a task waits on ``key``. ISR-safe."""
        q = self._q
        state = q._enter()
        slot = q.head
        while slot is not None and slot.wait_key != key:
            slot = slot.wait_next
        q._exit(state)
        return slot is not None


class _MapWait(Awaitable):
    def __init__(self, wm):
        self.wm = wm
        self._finish = core.Finish()

    def __next__(self):
        me = core.current_slot()
        q = self.wm._q
        if me.wait_phase == 0:
            key = me.wait_key
            state = q._enter()
            if q.closed:
                q._exit(state)
                raise closed_error("WaitMap")
            slot = q.head
            while slot is not None and slot.wait_key != key:
                slot = slot.wait_next
            if slot is not None:
                q._exit(state)
                raise WaiterBusy("a task already waits on key %r of this WaitMap: use one "
                                 "key per outstanding request" % (key,))
            q.link(me)
            me.wait_phase = 1
            q._exit(state)
            return core.PARK
        if me.wait_status == WAITING:
            return core.PARK
        value = me.wait_value
        status = accept(me)
        me.wait_value = None
        me.wait_key = None
        if status == CLOSED:
            raise closed_error("WaitMap")
        raise finish_with(self._finish, value)
