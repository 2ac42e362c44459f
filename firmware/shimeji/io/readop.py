"""``ReadOp``: the awaitable of a ``Stream``'s reads (streams.py), one per stream, reused.

A read first waits for the object in the task's I/O poller (as MicroPython's asyncio does),
then reads what is there; what to read (``kind``: some bytes, exactly ``n``, into a buffer)
is set by the ``Stream`` method that returns the op. Nothing here is ISR-safe.

Design note: one field says what to do on the wake. ``kind`` is ``n`` itself (>= 0) for
``read(n)``, or one of the negative codes below, ``CLOSED`` among them (``Stream.close`` sets
it, and a read of a closed stream leaves it), so the woken read looks up one attribute of
the op where it looked up three (kind, n, closed): two look-ups fewer between readiness and
the task's read.

Design note: ``__next__`` on the instance too. Resuming a task parked in ``await op`` looks
``__next__`` up on the op (``mp_resume``): on MicroPython, for a class instance, a miss in
the instance's table, then the class's, ~630 instructions; the bound method kept in the
instance's own table (made once, with the op) is found at once: ~270 instructions fewer per
resumption, the one between readiness and the read among them. CPython looks special
methods up on the type only, so there it is not set.
"""

import micropython
from micropython import const

from .. import core, port
from .._values import _WORDS, _copy_word
from ..errors import IOBusy, StreamClosed
from .wait import READ_ANY

# The kinds of ReadOp besides read(n), whose kind is n itself (>= 0): readinto(buf),
# readexactly(n), and a read of a closed stream
READ_INTO = const(-1)
READ_EXACT = const(-2)
CLOSED = const(-3)

_context = core.context
_PARK = core.PARK
_read_step = READ_ANY.step
_POLLIN = const(0x0001)
_MP = port.IS_MICROPYTHON


class ReadOp:
    """The awaitable of a ``Stream``'s ``read(n)``, ``readinto`` and ``readexactly``: one per
    stream, reused by every read, so a read allocates only the bytes it returns (no coroutine).

    Like MicroPython's asyncio, it first waits for the object to be readable (in the task's
    I/O poller), then reads. What to read is on the op (set by the call), the wait on the
    awaiting task's slot, so it may be awaited in another task than the caller's
    (``wait_for``, ``gather``). One reader at a time: ``owner`` is the slot that last awaited
    it, busy while that slot waits on the stream; another read meanwhile raises ``IOBusy``.
    Has ``send``/``throw``/``close``, so ``create_task``/``spawn`` take it as a coroutine."""

    def __init__(self, stream):
        self.stream = stream
        self.s = stream.s
        self.owner = None
        self.kind = 0  # read(n): n; else READ_INTO, READ_EXACT or CLOSED (module note)
        self.n = 0  # readexactly's bytes still to read
        self.buf = None
        self.got = b""
        self.entry = None  # the poller's WatchEntry for s, from the first wait: re-armed in line
        self.fin = None  # the parts of that entry's scheduler's ValueFinish (vf.parts)
        if _MP:  # __next__ found in the instance's own table (see the module's design note)
            self.__next__ = self.__next__

    @micropython.native
    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=_context, _threads=core._threads, _copy_word=_copy_word,
                 _WORDS=_WORDS):
        me = _ctx.slot  # (default-argument locals: a global is a hashed look-up in native code)
        if me is None or _threads:  # executor workers: the calling thread tells (core.py)
            me = core.current_slot()  # raises NoCurrentTask
        s = self.s
        while True:
            if not me.wait_phase:  # (again, after a read that found nothing; not == 0: in
                # native code an equality is a call to a function of its own, a truth test not)
                owner = self.owner
                if owner is not me:
                    if owner is not None and owner.io_obj is s:
                        raise reader_busy(owner)
                    self.owner = me
                me.io_obj = s
                entry = self.entry
                poller = me.sched.poller
                if (entry is not None and entry.poller is poller and entry.obj is s
                        and entry.reader is None and entry.mask & _POLLIN):
                    # poller.add(me, s, POLLIN) in line: s is registered, reading stays armed
                    # (io_mask and io_events are not needed: remove() asks the entry which
                    # direction the slot waits for, and the wake sets io_events)
                    entry.reader = me
                    me.io_entry = entry
                    me.waiting_on = poller
                    me.dirty = True  # (see TaskSlot.dirty)
                    poller.waiters += 1
                    me.wait_phase = 1
                    return _PARK
                _read_step(me)  # registers the wait (raises what add raises)
                self.entry = me.io_entry
                self.fin = me.sched.value_finish.parts
                return _PARK
            if me.io_entry is None:  # (no ``is not``: in native code, a runtime call more)
                pass
            else:
                return _PARK  # woken for another reason: still registered
            kind = self.kind
            if kind >= 0:  # read(n): kind is n
                try:
                    r = s.read(kind)
                finally:  # (READ_ANY.step's end in line, after the read: not between
                    me.wait_phase = 0  # readiness and it; trouble shows in the read)
                    me.io_obj = None
                if r is None:
                    continue  # nothing after all: wait again
                # raise me.sched.value_finish.done(r), in line (no bytecode call; the box
                # keeps r until the next value, as the exception's args do anyway), its four
                # parts from one tuple: one attribute load and an unpack, not five loads
                fin = self.fin  # (its scheduler's: set with self.entry, re-armed with it)
                if fin is None:  # (CPython, or a build without viper)
                    raise StopIteration(r)
                exc, box, dst, src = fin
                box[0] = r
                _copy_word(dst, src, _WORDS)
                exc.__traceback__ = None
                raise exc
            me.wait_phase = 0  # READ_ANY.step's end in line: trouble shows in the read
            me.io_obj = None  # (io_events stays: nothing reads it before the next wake)
            if kind == READ_INTO:
                r = s.readinto(self.buf)
                self.buf = None
                raise me.sched.value_finish.done(r)
            elif kind == CLOSED:
                raise stream_closed()
            else:
                r = s.read(self.n)
                if r is not None:
                    if len(r) == self.n and not self.got:
                        raise me.sched.value_finish.done(r)  # all of it at once
                    self._exact_more(me, r)

    def _exact_more(self, me, r):
        # readexactly got ``r`` (not all): keep it and return (to wait again), or raise the end.
        if not len(r):
            self.got = b""
            raise EOFError
        self.got += r
        self.n -= len(r)
        if self.n:
            return
        r = self.got
        self.got = b""
        raise me.sched.value_finish.done(r)

    def send(self, value):
        return self.__next__()

    def throw(self, exc, *args):
        self.close()
        raise exc

    def close(self):
        owner = self.owner
        if owner is not None and owner.io_obj is self.s and owner.io_entry is None:
            owner.io_obj = None  # woken, then thrown into before it read: not reading now
        self.buf = None
        self.got = b""


def reader_busy(slot):
    """The ``IOBusy`` for a second reader while ``slot``'s task reads the stream."""
    return IOBusy("task %d (%r) is reading this Stream: one reader per stream at a time; "
                  "share it through one owning task, or a Channel" % (slot.id, slot.name))


def stream_closed():
    """The ``StreamClosed`` for a read on a closed stream."""
    return StreamClosed("this Stream was closed: open a new connection")
