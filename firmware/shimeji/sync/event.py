"""``Event``: a flag tasks wait for, like asyncio's ``Event``.

``set()`` wakes every waiter and keeps the flag set until ``clear()``; ``wait()`` returns at
once while it is set. ``set()`` and ``clear()`` may be called from an interrupt handler. For
one waiter that consumes each signal (asyncio's ``ThreadSafeFlag``), use ``WaitCell``.
"""

import micropython

from .. import core
from .waitqueue import CLOSED, WAITING, WOKEN, Awaitable, WaitQueue, accept, closed_error, own_next


class Event:
    """A settable flag with waiters. ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        self._q = WaitQueue(critical_section)
        self._flag = False
        self._wait = _EventWait(self)

    def is_set(self):
        """ISR-safe."""
        return self._flag

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def set(self):
        """Set the flag and wake every waiter. ISR-safe, allocation-free."""
        q = self._q
        state = q._enter()
        try:
            self._flag = True
            q.release_all(WOKEN)
        finally:
            q._exit(state)

    def clear(self):
        """Clear the flag; later ``wait()`` calls park. ISR-safe."""
        self._flag = False

    def close(self):
        """Wake every waiter with ``PrimitiveClosed``; later waits raise it. ISR-safe."""
        self._q.close()

    def wait(self):
        """Awaitable: return once the flag is set (at once if it is). Allocates nothing.
        Not ISR-safe (tasks only)."""
        return self._wait

    def waiters(self):
        """How many tasks wait. ISR-safe."""
        return self._q.count


class _EventWait(Awaitable):
    def __init__(self, event):
        self.event = event
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        ev = self.event
        q = ev._q
        if me.wait_phase == 0:
            state = q._enter()
            if q.closed:
                q._exit(state)
                raise closed_error("Event")
            if ev._flag:
                q._exit(state)
                raise self._finish.done()
            try:  # (WaitList.push asserts the task waits on nothing else)
                q.link(me)
            except BaseException as e:
                q._exit(state)
                raise e
            me.wait_phase = 1
            q._exit(state)
            return _park
        if me.wait_status == WAITING:
            return _park
        if accept(me) == CLOSED:
            raise closed_error("Event")
        raise self._finish.done()
