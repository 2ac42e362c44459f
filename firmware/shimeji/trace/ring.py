"""``Trace``: a fixed ring of event records, made at start-up, that recording never grows.

A record is four 32-bit words in one preallocated ``array('i')``: a µs timestamp (30-bit
wrapping ticks), an event kind (``kinds.py``), a task id and one argument (both below 2**30).
A full ring overwrites its oldest record and counts it in ``dropped``, exactly. The hot
writers (``put``, ``poll_records``) are viper functions: a record is a few machine stores.

The module layout: ``writers.py`` has the header words and the viper writers, ``side.py``
the side ring that interrupt handlers and other threads record into (and its design note),
``dump.py`` the hex-line dump. ``Trace`` ties them together and attaches to a scheduler.
"""

from array import array

import micropython
from micropython import const

from .. import core, port
from ..errors import InvalidCapacity, SchedulerBusy, TraceError
from . import kinds as K
from .dump import dump
from .side import SideRing
from .writers import HEADER, park_what, poll_records, put  # noqa: F401 - re-exported

_MASK = const(0x3FFFFFFF)
_MAX_SIZE = const(1 << 20)
_POS = const(0)  # writers.POS ...: the header's words
_COUNT = const(1)
_DROPPED = const(2)
_SIZE = const(3)
_BEGIN = const(4)
_SIDE = const(5)
_SIDE_DROPPED = const(7)
_W_ID = const(3)  # task.words.W_ID: the task's id, for the traced FIFO tick
_SPAWN = const(1)  # kinds.SPAWN

last = None  # the Trace attached most recently: ``tools/trace.py pull`` dumps it


class Trace(SideRing):
    """A trace ring of ``size`` records (e.g. ``Trace(512)``: 512 x 16 bytes), plus a side
    ring of ``side`` records for wakes from interrupt handlers and other threads.

    ``clock_us``: the µs tick source (default: the attached scheduler's, else
    ``time.ticks_us``). ``names``: how many task names to remember (by task id) for the
    export. Attach it with ``attach(sched)``; recording then allocates nothing."""

    def __init__(self, size=512, side=32, clock_us=None, names=32):
        for what, v, lo in (("size", size, 2), ("side", side, 1), ("names", names, 1)):
            if type(v) is not int or v < lo or v > _MAX_SIZE:
                raise InvalidCapacity("Trace(%s=%r): give an int from %d to %d records"
                                      % (what, v, lo, _MAX_SIZE))
        if clock_us is not None and not callable(clock_us):
            raise TraceError("Trace(clock_us=%r): give a function returning µs ticks (such as "
                             "time.ticks_us), or leave it out" % (clock_us,))
        self.size = size
        n = HEADER + 4 * size
        buf = array("i", range(n))  # one block at its length ([0] * n: a second as large)
        for i in range(n):
            buf[i] = 0
        self.buf = buf
        self.buf[_SIZE] = size
        self._init_side(side)
        self._own_clock = clock_us is not None
        self.clock = clock_us if clock_us is not None else port.ticks_us
        self.in_timer = False  # set by the timer while its turn fires entries
        self.label = "scheduler"  # what dump() calls it by default (attach sets it)
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
        if not hasattr(sched, "set_trace"):
            raise TraceError("attach(sched): give a StaticScheduler (or an executor's worker), "
                             "got %r" % (sched,))
        if sched._trace is not None and sched._trace is not self:
            raise TraceError("this scheduler already has a trace: detach() it first")
        if self.sched is not None and self.sched is not sched:
            raise TraceError("this Trace is attached to another scheduler: make one Trace per "
                             "scheduler")
        timer = sched.timer
        if timer is not None and timer.trace is not None and timer.trace is not self:
            raise TraceError("the scheduler's timer already has a trace: detach() it first")
        if sched._polling:
            raise _from_task("attach")
        if not self._own_clock:
            self.clock = sched._clock_us
        cs = sched.critical_section
        self._enter = cs.enter
        self._exit = port.exit_of(cs)
        sched.set_trace(self)
        _write_ids(sched)  # (after set_trace: from now on every spawn there writes its own)
        self.sched = sched
        self.label = "interrupt level" if sched.level > 0 else "scheduler"
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
        if sched._polling:
            raise _from_task("detach")
        sched.set_trace(None)
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

    @micropython.native  # (native: per traced spawn and completion; ``_put``: a local)
    def record(self, kind, task, arg, _put=put):
        """Append one record stamped now. Allocation-free. The scheduler's context only (its
        tasks, the run loop, timer callbacks): interrupt handlers record through ``wake``."""
        _put(self.buf, self.clock() & _MASK, kind, task, arg)

    def mark(self, value=0):
        """Record a ``MARK`` of the running task (0 outside a task) with ``value`` (an int
        from 0 to 2**30 - 1): a point of your own on the timeline. Allocation-free. The
        scheduler's context only."""
        if type(value) is not int or value < 0 or value > _MASK:
            raise TraceError("mark(value): give an int from 0 to 2**30 - 1, got %r" % (value,))
        slot = core.running_slot()  # (the calling thread's: an executor worker's own)
        self.record(K.MARK, 0 if slot is None else slot.id, value)

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
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

    @micropython.native  # (per traced spawn: module names as default-argument locals)
    def spawned(self, slot, _ctx=core.context, _current=core.current_context, _len=len,
                _threads=core._threads):
        """Record the spawn of ``slot``'s task and remember its name. Scheduler context; on
        an executor's worker, any thread (its spawns hold the critical section)."""
        sched = self.sched
        if sched is not None and sched.parallel:
            # A worker's main ring is written by its own thread only, with no lock: a spawn
            # onto it from another thread (an injection, a spill, another worker's task, the
            # REPL before the worker runs) goes through the side ring, as a cross-core wake.
            ctx = _current()
            parent = ctx.slot
            tid = slot.id
            if ctx is sched._ctx:
                self.record(_SPAWN, tid, parent.id if parent is not None else 0)
            else:
                self.record_isr(_SPAWN, tid, parent.id if parent is not None else 0)
        else:
            parent = _ctx.slot
            if parent is None or _threads:  # executor workers: the calling thread's context
                parent = _current().slot
            tid = slot.id
            self.record(_SPAWN, tid, parent.id if parent is not None else 0)
        slot.w[_W_ID] = tid  # (what the traced FIFO tick records: task/words.py)
        slot.wakes = 0
        j = tid % _len(self._names)
        self._name_ids[j] = tid
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
        """The name a task was spawned with, if still remembered; else None. Not ISR-safe."""
        if type(task_id) is not int:
            raise TraceError("name_of(task_id): give a task id (an int), got %r" % (task_id,))
        j = task_id % len(self._names)
        return self._names[j] if self._name_ids[j] == task_id else None

    def dump(self, stream=None, label=None, core=None):
        """Write the ring as hex lines to ``stream`` (default: print to the console; a file
        opened for writing works): a header, the task names, one record a line, an end line.
        ``label`` names the scheduler in the export (default: ``scheduler``, or ``interrupt
        level`` for an ``InterruptScheduler``'s trace); ``core``: the executor worker's number
        (its track in the export). ``tools/trace.py`` reads it. Allocates (one line at a
        time). Scheduler context, or ``background.call(trace.dump)`` while a background loop
        runs."""
        dump(self, stream, label, core)


def _write_ids(sched):
    # The W_ID word (task/words.py) of every slot ``sched``'s traced tick may poll: its pool's,
    # and on an executor's worker every worker's (a steal moves a slot; executor/steal.py
    # writes the word then). Each id read again after the store: a spawn on another thread
    # that changes it meanwhile writes its own (Trace.spawned, after slot.id).
    ex = getattr(sched, "executor", None)
    for pool in ex.workers if ex is not None else (sched,):
        for slot in pool.slots:
            _write_id(slot)
        slot = pool._owned_head  # caller-owned slots (TaskPool.live_slots' second list)
        while slot is not None:
            _write_id(slot)
            slot = slot.free_next


def _write_id(slot):
    while True:
        i = slot.id
        slot.w[_W_ID] = i
        if slot.id == i:
            return


def _from_task(what):
    return SchedulerBusy("Trace.%s() from a task of the scheduler it traces: call it from "
                         "set-up code or the run loop (with a background loop: "
                         "background.call(...))" % what)
