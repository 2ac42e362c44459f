"""The side ring: records from interrupt handlers, other threads and cores.

Design note. Only the scheduler's context writes the main ring (``writers.py``), with no
lock. A wake may come from an interrupt handler or another thread (or core) in the middle of
one of those writes, so it never touches the main ring: ``wake()`` already holds the critical
section and records into this small side ring under it (as does ``record_isr``). The
scheduler moves the side ring into the main ring (``drain``), under the critical section, at
the start of each tick and after each poll that found it non-empty. Each ring has one writer
at a time and its own dropped counter, so a torn record is impossible. The price is order: a
wake made during a poll lands just after that poll's POLL_END (``tools/trace.py`` sorts by
timestamp, stably). A wake is labelled by where it came from: the timer (its hand-off marks
them itself), a task (while that task is polled; on an executor worker, a task of that
worker polled on its own thread), else external. A wake from an interrupt
handler that lands inside a poll is labelled as that task's, and one inside a timer turn
that runs a callback (a ``timeout()`` expiring) as the timer's.
"""

from array import array

import micropython
from micropython import const

from .. import core
from .writers import put

_MASK = const(0x3FFFFFFF)
_SIDE = const(5)  # writers.SIDE
_SIDE_DROPPED = const(7)  # writers.SIDE_DROPPED
_WAKE_TASK = const(5)  # kinds.WAKE_*: constants (``K.X`` in native code is two look-ups)
_WAKE_EXTERNAL = const(6)
_WAKE_TIMER = const(7)


class SideRing:
    """The side ring of a ``Trace`` (its base class): ``side`` records of four fields in
    four arrays, written under the traced scheduler's critical section."""

    def _init_side(self, side):
        self.side = side
        self._sts = array("i", [0] * side)
        self._skind = bytearray(side)
        self._stask = array("i", [0] * side)
        self._sarg = array("i", [0] * side)
        self._spos = 0
        self.clock_error = None  # what the clock raised in a side record (see _side_put)

    @micropython.native
    def wake_locked(self, sched, slot, _ctx=core.context, _threads=core._threads):
        """Record the wake of ``slot`` into the side ring. Called by ``sched.wake`` with the
        critical section held; ISR-safe and allocation-free."""
        if self.in_timer:
            kind = _WAKE_TIMER
            arg = 0
        else:
            kind = _WAKE_EXTERNAL
            arg = 0
            if sched._polling:
                waker = _ctx.slot
                if waker is None or _threads:  # executor workers: the calling thread's context
                    ctx = core.current_context()
                    waker = ctx.slot if ctx.sched is sched else None  # else another thread's
                if waker is not None:
                    kind = _WAKE_TASK
                    arg = waker.id
        slot.wakes += 1
        self._side_put(kind, slot.id, arg)

    @micropython.native
    def timer_woke(self, slot):
        """Record a wake by the timer (the wheel's hand-off, critical section held): labelled
        exactly, whatever else runs meanwhile. ISR-safe and allocation-free."""
        slot.wakes += 1
        self._side_put(_WAKE_TIMER, slot.id, 0)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def record_isr(self, kind, task, arg):
        """Append one record from any context: an interrupt handler, another thread or core
        (a cross-core wake, I/O readiness). It goes through the side ring under the critical
        section, and reaches the ring at the scheduler's next poll. ISR-safe, allocation-free.
        """
        state = self._enter()
        try:
            self._side_put(kind, task, arg)
        finally:
            self._exit(state)

    @micropython.native
    def _side_put(self, kind, task, arg):
        # The caller holds the critical section: the side ring and _SIDE_DROPPED are its.
        # It never raises: callers hold the section in the middle of a wheel's pass or a
        # wake. A clock that raises drops the record (counted) and its exception waits for
        # the next ``drain()`` (the scheduler's tick), which raises it outside any section.
        try:
            ts = self.clock() & _MASK
        except Exception as e:  # kept, and raised by drain()
            self.clock_error = e
            buf = self.buf
            d = buf[_SIDE_DROPPED]
            buf[_SIDE_DROPPED] = d + 1 if d < _MASK else 0
            return
        i = self._spos
        self._sts[i] = ts
        self._skind[i] = kind
        self._stask[i] = task
        self._sarg[i] = arg
        i += 1
        self._spos = 0 if i == self.side else i
        buf = self.buf
        c = buf[_SIDE]
        if c < self.side:
            buf[_SIDE] = c + 1
        else:
            d = buf[_SIDE_DROPPED]
            buf[_SIDE_DROPPED] = d + 1 if d < _MASK else 0

    @micropython.native
    def drain(self):
        """Move the side ring's records into the main ring. Scheduler context only;
        allocation-free; holds the critical section while it copies. Raises what the clock
        raised in a side record since the last call (``_side_put``)."""
        err = self.clock_error
        if err is not None:
            self.clock_error = None
            raise err
        if not self.buf[_SIDE] or self._enter is None:
            return
        state = self._enter()
        buf = self.buf
        n = buf[_SIDE]
        side = self.side
        j = self._spos - n
        if j < 0:
            j += side
        while n > 0:
            put(buf, self._sts[j], self._skind[j], self._stask[j], self._sarg[j])
            j += 1
            if j == side:
                j = 0
            n -= 1
        buf[_SIDE] = 0
        self._exit(state)
