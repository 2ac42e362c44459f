"""``WaitMap``: tasks wait on a key; a waker delivers a value to the waiter of a key.

Request/response matching: a task sends a request tagged with an id and ``await
wm.wait(id)``; whoever receives the response (a task, or an interrupt handler reading a bus)
calls ``wm.wake(id, value)`` and the waiting task gets ``value``. Waiters are their tasks'
slots, linked in one list and searched by key (a linear scan: meant for a handful of
outstanding requests). A wake for a key nobody waits on returns False and is not kept.
A wake whose waiter is cancelled before it runs is not lost: the map keeps it (one, the
latest: ``kept()``), and the next ``wait`` on that key returns it at once.
"""

import micropython
from micropython import const

from .. import core
from ..errors import WaiterBusy
from .waitqueue import (
    CLOSED,
    WAITING,
    Awaitable,
    WaitQueue,
    accept,
    closed_error,
    finish_with,
    own_next,
)

# What a first poll found in the section (the exception is raised after leaving it).
_CLOSED = const(0)
_KEPT = const(1)
_BUSY = const(2)


class WaitMap:
    """Waiters keyed by value (ints or short strings compare without allocating).
    ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        self._q = WaitQueue(critical_section, self._abandoned)
        self._wait = _MapWait(self)
        self._has_kept = False  # a delivered value whose waiter was cancelled before it ran
        self._kept_key = None
        self._kept_value = None

    def _abandoned(self, slot):
        # Inside the section: the woken waiter was cancelled; keep its value for the key.
        self._has_kept = True
        self._kept_key = slot.wait_key
        self._kept_value = slot.wait_value

    def kept(self):
        """``(key, value)`` of a wake whose waiter was cancelled before it ran, or None.
        The next ``wait(key)`` on that key takes it. Not ISR-safe (allocates a tuple)."""
        if not self._has_kept:
            return None
        return (self._kept_key, self._kept_value)

    def wait(self, key):
        """Awaitable: park until ``wake(key, value)``; returns ``value``. Raises
        ``WaiterBusy`` if another task waits on ``key``, ``PrimitiveClosed`` if closed.
        Allocates nothing on MicroPython with native code (the value comes back in the
        scheduler's one StopIteration, docs/sync.md "Allocation"); elsewhere a
        ``StopIteration`` when ``value`` is not None. Not ISR-safe: await it at once in a task."""
        core.current_slot().wait_key = key
        return self._wait

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def wake(self, key, value=None):
        """Deliver ``value`` to the task waiting on ``key``; True if there was one. ISR-safe,
        allocation-free (O(waiters) inside the critical section)."""
        q = self._q
        state = q._enter()
        try:  # (a key's __eq__ and the grant's wake may raise)
            slot = q.head
            while slot is not None:
                if slot.wait_key == key:
                    slot.wait_value = value
                    q.grant(slot)  # attached until it runs: a cancellation keeps the value
                    return True
                slot = slot.wait_next
            return False
        finally:
            q._exit(state)

    def close(self):
        """Wake every waiter with ``PrimitiveClosed``; later waits raise it. ISR-safe."""
        self._q.close()

    def waiters(self):
        """How many tasks wait. ISR-safe."""
        return self._q.count

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def is_waiting(self, key):
        """True if a task waits on ``key``. ISR-safe."""
        q = self._q
        state = q._enter()
        try:  # (a key's __ne__ may raise)
            slot = q.head
            while slot is not None and slot.wait_key != key:
                slot = slot.wait_next
        finally:
            q._exit(state)
        return slot is not None


class _MapWait(Awaitable):
    def __init__(self, wm):
        self.wm = wm
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        q = self.wm._q
        if me.wait_phase == 0:
            key = me.wait_key
            wm = self.wm
            state = q._enter()
            try:  # (a key's __eq__/__ne__ may raise)
                if q.closed:
                    outcome = _CLOSED
                elif wm._has_kept and wm._kept_key == key:  # a wake its cancelled waiter missed
                    value = wm._kept_value
                    wm._has_kept = False
                    wm._kept_key = None
                    wm._kept_value = None
                    outcome = _KEPT
                else:
                    slot = q.head
                    while slot is not None and slot.wait_key != key:
                        slot = slot.wait_next
                    if slot is not None:
                        outcome = _BUSY
                    else:
                        q.link(me)
                        me.wait_phase = 1
                        return _park
            finally:
                q._exit(state)
            if outcome == _CLOSED:
                raise closed_error("WaitMap")
            if outcome == _BUSY:
                raise WaiterBusy("a task already waits on key %r of this WaitMap: use one "
                                 "key per outstanding request" % (key,))
            me.wait_key = None
            raise finish_with(self._finish, value, me)
        if me.wait_status == WAITING:
            return _park
        value = me.wait_value
        status = accept(me)
        me.wait_value = None
        me.wait_key = None
        if status == CLOSED:
            raise closed_error("WaitMap")
        raise finish_with(self._finish, value, me)
