"""``Trace``: a fixed ring of event records, made at start-up, that recording never grows.

A record is four 32-bit words in one preallocated ``array('i')``: a µs timestamp (30-bit
wrapping ticks), an event kind (``kinds.py``), a task id and one argument (both below 2**30).
A full ring overwrites its oldest record and counts it in ``dropped``, exactly. The hot
writers (``put``, ``poll_records``) are viper functions: a record is a few machine stores.

Design note: interrupts. Records come from two kinds of context. The scheduler's own context
(its tick, the tasks it polls, the timer turn, the run loop) writes the ring with no lock: it
is the only writer. A wake may come from an interrupt handler or another thread (or core) in
the middle of one of those writes, so a wake never touches the ring: ``wake()`` already holds
the critical section and records into a small *side ring* under it (as does ``record_isr``).
The scheduler moves the side ring into the ring, under the critical section, at the start of
each tick and after each poll that found it non-empty. So a torn record is impossible: each
ring has one writer at a time, and each keeps its own dropped counter. The price is order: a
wake made during a poll lands just after that poll's POLL_END (``tools/trace.py`` sorts by
timestamp, stably). A wake is labelled by where it came from: the timer (its hand-off marks
them itself), a task (while that task is polled), else external. A wake from an interrupt
handler that lands inside a poll is labelled as that task's, and one inside a timer turn
that runs a callback (a ``timeout()`` expiring) as the timer's; nothing else is wrong with it.
"""

from array import array

import micropython
from micropython import const

from .. import core, port
from ..errors import InvalidCapacity, TraceError
from . import kinds as K

_MASK = const(0x3FFFFFFF)
_MAX_SIZE = const(1 << 20)
_POLL_BEGIN = const(2)  # kinds.POLL_BEGIN
_POLL_END = const(3)  # kinds.POLL_END
_END_YIELD = const(0)  # kinds.END_YIELD
_PARK_TIMER = const(1)  # kinds.PARK_TIMER

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython


# The main ring is one array('i'): a header, then 4 words a record (ts, kind, task, arg).
_POS = const(0)  # where the next record goes
_COUNT = const(1)  # records held (at most size)
_DROPPED = const(2)  # records overwritten, wrapping below 2**30
_SIZE = const(3)
_BEGIN = const(4)  # where the running poll's POLL_BEGIN goes (sched/traced.py)
_SIDE = const(5)  # side records not yet moved (written under the critical section)
_START = const(6)  # when the running poll began (µs ticks; sched/traced.py)
_SIDE_DROPPED = const(7)  # side records overwritten (written under the critical section)
# 8 and 9: the traced FIFO tick's (sched/tracedfifo.py): in a poll, polls so far
HEADER = const(10)


last = None  # the Trace attached most recently: ``tools/trace.py pull`` dumps it


class Trace:
    """A trace ring of ``size`` records (e.g. ``Trace(512)``: 512 x 16 bytes), plus a side
    ring of ``side`` records for wakes from interrupt handlers and other threads.

    ``clock_us``: the µs tick source (default: the attached scheduler's, else
    ``time.ticks_us``). ``names``: how many task names to remember (by task id) for the
    export. Attach it with ``attach(sched)``; recording then allocates nothing."""

    def __init__(self, size=512, side=32, clock_us=None, names=32):
        for what, v, lo in (("size", size, 2), ("side", side, 1), ("names", names, 1)):
            if not isinstance(v, int) or v < lo or v > _MAX_SIZE:
                raise InvalidCapacity("Trace(%s=%r): give an int from %d to %d records"
                                      % (what, v, lo, _MAX_SIZE))
        self.size = size
        self.buf = array("i", [0] * (HEADER + 4 * size))
        self.buf[_SIZE] = size
        self.side = side
        self._sts = array("i", [0] * side)
        self._skind = bytearray(side)
        self._stask = array("i", [0] * side)
        self._sarg = array("i", [0] * side)
        self._spos = 0
        self._own_clock = clock_us is not None
        self.clock = clock_us if clock_us is not None else port.ticks_us
        self.in_timer = False  # set by the timer while its turn fires entries
        self.sched = None
        self._enter = None
        self._exit = None
        self._name_ids = array("i", [0] * names)
        self._names = [None] * names

    def __repr__(self):
        return "<Trace %d/%d records, %d dropped>" % (len(self), self.size, self.dropped)

    @property
    def dropped(self):
        """Records lost so far (overwritten by newer ones), wrapping below 2**30: those of
        the ring plus those of the side ring (each has its own counter, so the scheduler and
        an interrupt handler never update the same word)."""
        return (self.buf[_DROPPED] + self.buf[_SIDE_DROPPED]) & _MASK

    # -- attaching -----------------------------------------------------------------------------

    def attach(self, sched):
        """Trace ``sched`` (and its timer) from now on; returns self. Raises ``TraceError``
        if either already has a trace. Not ISR-safe; not from one of the scheduler's tasks."""
        if sched._trace is not None and sched._trace is not self:
            raise TraceError("this scheduler already has a trace: detach() it first")
        if self.sched is not None and self.sched is not sched:
            raise TraceError("this Trace is attached to another scheduler: make one Trace per "
                             "scheduler")
        timer = sched.timer
        if timer is not None and timer.trace is not None and timer.trace is not self:
            raise TraceError("the scheduler's timer already has a trace: detach() it first")
        if sched._polling:
            raise sched._busy()
        if not self._own_clock:
            self.clock = sched._clock_us
        cs = sched.critical_section
        self._enter = cs.enter
        self._exit = cs.exit
        sched.set_trace(self)
        self.sched = sched
        if timer is not None:
            timer.trace = self
        global last
        last = self
        return self

    def detach(self):
        """Stop tracing; the records stay for ``dump()``. Not ISR-safe."""
        sched = self.sched
        if sched is None:
            return
        sched.set_trace(None)  # raises SchedulerBusy from one of its tasks, changing nothing
        self.drain()
        if sched.timer is not None and sched.timer.trace is self:
            sched.timer.trace = None
        self.sched = None

    def clear(self):
        """Forget every record and the dropped count. Scheduler context only."""
        self.drain()
        buf = self.buf
        buf[_POS] = 0
        buf[_COUNT] = 0
        buf[_DROPPED] = 0
        buf[_BEGIN] = 0
        state = self._enter() if self._enter is not None else None
        buf[_SIDE_DROPPED] = 0
        if self._exit is not None:
            self._exit(state)

    # -- recording ------------------------------------------------------------------------------

    def record(self, kind, task, arg):
        """Append one record stamped now. Allocation-free. The scheduler's context only (its
        tasks, the run loop, timer callbacks): interrupt handlers record through ``wake``."""
        put(self.buf, self.clock() & _MASK, kind, task, arg)

    def mark(self, value=0):
        """Record a ``MARK`` of the running task (0 outside a task) with ``value`` (an int
        from 0 to 2**30 - 1): a point of your own on the timeline. Allocation-free. The
        scheduler's context only."""
        if not isinstance(value, int) or value < 0 or value > _MASK:
            raise TraceError("mark(value): give an int from 0 to 2**30 - 1, got %r" % (value,))
        slot = core.context.slot
        self.record(K.MARK, 0 if slot is None else slot.id, value)

    @micropython.native
    def wake_locked(self, sched, slot):
        """Record the wake of ``slot`` into the side ring. Called by ``sched.wake`` with the
        critical section held; ISR-safe and allocation-free."""
        if self.in_timer:
            kind = K.WAKE_TIMER
            arg = 0
        else:
            kind = K.WAKE_EXTERNAL
            arg = 0
            if sched._polling:
                waker = core.context.slot
                if waker is not None:
                    kind = K.WAKE_TASK
                    arg = waker.id
        slot.wakes += 1
        self._side_put(kind, slot.id, arg)

    @micropython.native
    def timer_woke(self, slot):
        """Record a wake by the timer (the wheel's hand-off, critical section held): labelled
        exactly, whatever else runs meanwhile. ISR-safe and allocation-free."""
        slot.wakes += 1
        self._side_put(K.WAKE_TIMER, slot.id, 0)

    def record_isr(self, kind, task, arg):
        """Append one record from any context: an interrupt handler, another thread or core
        (a cross-core wake, I/O readiness). It goes through the side ring under the critical
        section, and reaches the ring at the scheduler's next poll. ISR-safe, allocation-free.
        """
        state = self._enter()
        self._side_put(kind, task, arg)
        self._exit(state)

    @micropython.native
    def _side_put(self, kind, task, arg):
        # The caller holds the critical section: the side ring and _SIDE_DROPPED are its.
        i = self._spos
        self._sts[i] = self.clock() & _MASK
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
        allocation-free; holds the critical section while it copies."""
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

    def timer_turn(self, wheel, n):
        """``wheel.advance(n)`` for ``Timer.turn``: a ``TIMER_FIRE`` record (its argument the
        entries fired) comes before the wakes it causes, which are labelled ``WAKE_TIMER``.
        Run-loop context; allocation-free."""
        k = wheel.next_in_ticks()
        if (k < 0 or k > n) and not wheel.lag and wheel._resume < 0:
            return wheel.advance(n)  # nothing fires
        buf = self.buf
        i = buf[_POS]
        before = buf[_COUNT] + buf[_DROPPED]
        self.record(K.TIMER_FIRE, 0, 0)
        self.in_timer = True
        try:
            fired = wheel.advance(n)
        finally:
            self.in_timer = False
        if buf[_COUNT] + buf[_DROPPED] - before < self.size:  # not overwritten yet
            buf[HEADER + 4 * i + 3] = fired
        return fired

    def spawned(self, slot):
        """Record the spawn of ``slot``'s task and remember its name. Scheduler context."""
        ctx = core.context
        parent = ctx.slot
        self.record(K.SPAWN, slot.id, parent.id if parent is not None else 0)
        slot.wakes = 0
        j = slot.id % len(self._names)
        self._name_ids[j] = slot.id
        self._names[j] = slot.name

    # -- reading --------------------------------------------------------------------------------

    def __len__(self):
        return self.buf[_COUNT]

    def records(self):
        """The records, oldest first, as a list of ``(ts, kind, task, arg)``. Allocates (tests,
        the REPL). Scheduler context (or with the loop held)."""
        self.drain()
        buf = self.buf
        out = []
        n = buf[_COUNT]
        i = buf[_POS] - n
        if i < 0:
            i += self.size
        for _ in range(n):
            j = HEADER + 4 * i
            out.append((buf[j], buf[j + 1], buf[j + 2], buf[j + 3]))
            i += 1
            if i == self.size:
                i = 0
        return out

    def name_of(self, task_id):
        """The name a task was spawned with, if still remembered; else None."""
        j = task_id % len(self._names)
        return self._names[j] if self._name_ids[j] == task_id else None

    def dump(self, stream=None, label="scheduler"):
        """Write the ring as hex lines to ``stream`` (default: print to the console; a file
        opened for writing works): a header, the task names, one record a line, an end line.
        ``label`` names the scheduler (or core) in the export. ``tools/trace.py`` reads it.
        Allocates (one line at a time). Scheduler context, or ``background.call(trace.dump)``
        while a background loop runs."""
        write = print if stream is None else _line_writer(stream)
        recs = self.records()
        write("shimeji-trace 1 size=%d count=%d dropped=%d label=%s" % (
            self.size, len(recs), self.dropped, _clean(label).replace(" ", "_")))
        seen = {}
        for r in recs:
            if r[2] and r[2] not in seen:
                seen[r[2]] = 1
                name = self.name_of(r[2])
                if name is not None:
                    write("N %x %s" % (r[2], _clean(name)))
        for ts, kind, task, arg in recs:
            write("%x %x %x %x" % (ts, kind, task, arg))
        write("end")


def _line_writer(stream):
    def write(line):
        stream.write(line)
        stream.write("\n")

    return write


def _clean(name):
    s = str(name)
    return s.replace("\n", " ").replace("\r", " ")


@micropython.viper
def put(buf, ts: int, kind: int, task: int, arg: int):
    """Append one record to the main ring ``buf``. Allocation-free; scheduler context."""
    p = ptr32(buf)
    i = p[_POS]
    j = HEADER + (i << 2)
    p[j] = ts & _MASK
    p[j + 1] = kind
    p[j + 2] = task
    p[j + 3] = arg
    i += 1
    if i == p[_SIZE]:
        i = 0
    p[_POS] = i
    if p[_COUNT] < p[_SIZE]:
        p[_COUNT] = p[_COUNT] + 1
    elif p[_DROPPED] < _MASK:
        p[_DROPPED] = p[_DROPPED] + 1
    else:
        p[_DROPPED] = 0


@micropython.viper
def poll_records(buf, te: int, tid: int) -> int:
    """Write POLL_BEGIN (at the header's ``_START``, µs ticks) where the poll began in the
    ring, moving the
    records made during the poll up by one, and POLL_END (at ``te``, a yield) after them.
    Returns the
    number of side-ring records waiting to be moved (``Trace.drain``). Allocation-free."""
    p = ptr32(buf)
    tb = p[_START]
    te &= _MASK
    p[_START] = te  # the next poll begins when this one ends
    size = p[_SIZE]
    pos = p[_POS]
    b = p[_BEGIN]
    k = pos - b
    if k < 0:
        k += size
    if k >= size - 1:  # the poll recorded a whole ring: no room to slot the begin in
        b = pos
        k = 0
    dst = pos
    while k > 0:
        src = dst - 1
        if src < 0:
            src = size - 1
        d = HEADER + (dst << 2)
        s = HEADER + (src << 2)
        p[d] = p[s]
        p[d + 1] = p[s + 1]
        p[d + 2] = p[s + 2]
        p[d + 3] = p[s + 3]
        dst = src
        k -= 1
    j = HEADER + (b << 2)
    p[j] = tb
    p[j + 1] = _POLL_BEGIN
    p[j + 2] = tid
    p[j + 3] = 0
    e = pos + 1
    if e == size:
        e = 0
    j = HEADER + (e << 2)
    p[j] = te
    p[j + 1] = _POLL_END
    p[j + 2] = tid
    p[j + 3] = _END_YIELD
    pos = e + 1
    if pos == size:
        pos = 0
    p[_POS] = pos
    p[_BEGIN] = pos
    c = p[_COUNT] + 2
    if c > size:
        d = p[_DROPPED] + c - size
        if d > _MASK:
            d = d - _MASK - 1
        p[_DROPPED] = d
        c = size
    p[_COUNT] = c
    return p[_SIDE]


@micropython.native
def park_what(slot):
    """What a parked task waits on: a ``kinds.PARK_*`` value. Allocation-free."""
    wl = slot.waiting_on
    if wl is not None:
        return getattr(wl, "waits_for", 0)
    if slot.timer.pos >= 0:
        return _PARK_TIMER
    return 0
