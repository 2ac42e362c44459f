"""``WaitCell``: one waiting task and one wake, like MicroPython asyncio's ``ThreadSafeFlag``.

``await cell.wait()`` parks the task until ``cell.wake()``. A wake with nobody waiting is
remembered (once: wakes do not count up), so the next ``wait()`` returns at once; a wake can
never fall between "check" and "park". The waiter is the task's slot and the awaitable is made
once per cell, so neither waiting nor waking allocates. ``wake()`` and ``close()`` may be called
from an interrupt handler.
"""

import micropython

from .. import core
from ..errors import WaiterBusy
from .waitqueue import (
    CLOSED,
    WAITING,
    WOKEN,
    Awaitable,
    accept,
    closed_error,
    exit_of,
    own_next,
    section,
)


class WaitCell:
    """A single-waiter wake-up cell. ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        cs = section(critical_section)
        self.critical_section = cs
        self._enter = cs.enter
        self._exit = exit_of(cs)
        self.waiter = None  # the parked task's slot
        self.pending = False  # a wake arrived with nobody waiting
        self.closed = False
        self._wait = _CellWait(self)

    def wait(self):
        """Awaitable: return at once if a wake is pending (consuming it), else park until
        ``wake()``. Raises ``WaiterBusy`` if another task waits, ``PrimitiveClosed`` once
        closed. Allocates nothing. Not ISR-safe (tasks only)."""
        return self._wait

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def wake(self):
        """Wake the waiter, or remember the wake if nobody waits. True if a task was woken.
        ISR-safe, allocation-free."""
        state = self._enter()
        slot = self.waiter
        if slot is None:
            if not self.closed:
                self.pending = True
            self._exit(state)
            return False
        self.waiter = None
        slot.wait_status = WOKEN  # still attached: a cancel before it runs re-arms ``pending``
        try:
            core.wake(slot)
        except BaseException as e:  # the wake did not happen: the task still waits (waitqueue.py)
            self.waiter = slot
            slot.wait_status = WAITING
            self._exit(state)
            raise e
        self._exit(state)
        return True

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def close(self):
        """Close: the waiter (and every later ``wait()``) raises ``PrimitiveClosed``. ISR-safe."""
        state = self._enter()
        self.closed = True
        self.pending = False
        slot = self.waiter
        if slot is not None:
            self.waiter = None
            slot.waiting_on = None
            slot.wait_status = CLOSED
            try:
                core.wake(slot)
            except BaseException as e:  # (as in wake: the task still waits; close() again)
                self.waiter = slot
                slot.waiting_on = self
                slot.dirty = True  # (see TaskSlot.dirty)
                slot.wait_status = WAITING
                self._exit(state)
                raise e
        self._exit(state)

    def remove(self, slot):
        """The scheduler calls this when the waiter is cancelled: the cell forgets it, and a
        wake it had not yet seen becomes pending again. Takes the critical section; not called
        from ISRs."""
        state = self._enter()
        if slot.waiting_on is self:
            slot.waiting_on = None
            if self.waiter is slot:
                self.waiter = None
            elif slot.wait_status == WOKEN:
                self.pending = True
        self._exit(state)


class _CellWait(Awaitable):
    def __init__(self, cell):
        self.cell = cell
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        cell = self.cell
        if me.wait_phase == 0:
            state = cell._enter()
            if cell.closed:
                cell._exit(state)
                raise closed_error("WaitCell")
            if cell.pending:
                cell.pending = False
                cell._exit(state)
                raise self._finish.done()
            if cell.waiter is not None:
                cell._exit(state)
                raise WaiterBusy("another task already waits on this WaitCell: use a "
                                 "WaitQueue (or an Event) for several waiters")
            cell.waiter = me
            me.waiting_on = cell
            me.dirty = True  # (see TaskSlot.dirty)
            me.wait_status = WAITING
            me.wait_phase = 1
            cell._exit(state)
            return _park
        if me.wait_status == WAITING:
            return _park  # a spurious wake: still the cell's waiter
        if accept(me) == CLOSED:
            raise closed_error("WaitCell")
        raise self._finish.done()
