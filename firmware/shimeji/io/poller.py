"""``IOPoller``: one ``select.poll`` per scheduler, waking the tasks that wait for I/O.

A task waits for an object (socket, ``machine.UART``, ``sys.stdin``, a pipe: anything
``select.poll`` accepts) with ``wait_readable``/``wait_writable`` (wait.py). The poller keeps
one ``WatchEntry`` per object (entry.py, which registers it): the task waiting to read, the
task waiting to write, and the event mask registered with ``select.poll``. An object stays
registered between waits, so the next wait on it allocates nothing (``poll.register`` allocates
on MicroPython; ``modify`` does not). A direction is armed (``poll.modify``) by the first wait
for it and stays armed after its wake: a task that reads, works and waits to read again finds
it armed and costs no ``modify`` at all. It is switched off only when a poll reports it ready
while nobody waits for it (or when a wait is cancelled), so an object nobody waits for wakes
the loop once at most. An object that reports a hang-up, an error or "closed" while nobody
waits for it is unregistered; ``forget(obj)`` unregisters one at once (streams call it when
they close).

The run loop (sched/runloop.py) polls with a zero timeout once per iteration while tasks wait
for I/O, and idles in ``wait_us()`` when nothing is runnable: until the next timer deadline,
readiness, or a wake from an interrupt or another thread.

Design note: ending the idle wait on a wake. Where the port has sockets on a host (CPython,
the MicroPython unix port) the poller makes a *wake socket* (io/waker.py: a local datagram pair)
whose receiving end is registered like any other object. ``StaticScheduler.wake`` calls
``notify()`` (its ``idle_notify``) when it queues a task outside a tick; ``notify`` sends one
byte only while the loop dozes (``sleeping``) and no byte is pending, so the idle ends at once
and a busy loop pays one flag test. That is enough for a wake because the doze reads the inbox
in the section the wake links under (dispatch.py's ``doze``). News the doze does not read (a
stop, a ThreadSafeFlag, a scheduled callback) goes through ``ring()``, which sends the byte
whatever ``sleeping`` says: it ends the next poll at once (docs/io.md, "The wake protocol"). On
boards (no loopback, or wakes from hard interrupts, which must not touch a
socket) there is no wake socket: the loop bounds each wait by ``max_idle_us`` (the board's tick),
as it does without I/O, so an interrupt's wake is seen within one tick.
"""

import select

import micropython
from micropython import const

from .. import port
from ..errors import BadArgument, WrongLevel
from ..trace.kinds import PARK_IO
from .dispatch import _ready
from .entry import fileno_of, waiter_busy, watch
from .waker import WakeSocket

POLLIN = const(0x0001)
POLLOUT = const(0x0004)
POLLERR = const(0x0008)
POLLHUP = const(0x0010)
POLLNVAL = const(0x0020)
_RD_WAKE = const(0x0039)  # what ends a read wait: POLLIN or trouble
_WR_WAKE = const(0x003C)  # what ends a write wait: POLLOUT or trouble
_LONG_IDLE_US = const(1000000)
_SLICE_US = const(1000)
_REST_SLICE_US = const(50)
_MP = port.IS_MICROPYTHON


class IOPoller:
    """The I/O waits of one scheduler's tasks (make it with ``poller_for(sched)``).

    ``waiters``: tasks waiting now. ``max_idle_us``: longest single idle when a wake socket
    ends idles early (1 s); None without one, and then an idle in poll lasts at most
    ``slice_us`` (1 ms: a poll does not end on an interrupt's wake). Nothing here is
    ISR-safe except ``notify``."""

    waits_for = PARK_IO  # what a task parked here waits on, for the trace and top()

    def __init__(self, sched, wake_socket=None):
        if getattr(sched, "critical_section", None) is None:
            raise BadArgument("IOPoller(sched): give the StaticScheduler whose tasks wait, got "
                              "%r" % (sched,))
        self.sched = sched
        self._poll = select.poll()
        self._ipoll = getattr(self._poll, "ipoll", None)
        self._entries = {}
        self.waiters = 0
        self.sleeping = False  # inside poll() in wait_us: a wake must end the poll
        self.max_idle_us = None
        self.slice_us = _SLICE_US  # longest idle in poll without a wake socket (boards)
        self._waker = None
        self._waker_key = None
        # Idle waits that a wake from another thread ended (0 without a wake socket). A plain
        # attribute, not a property: a class with a property makes every attribute store on
        # its instances (``waiters``, ``sleeping``: several per I/O wake) look through the
        # class first, ~1.4k instructions each on the unix port.
        self.wakeups = 0
        # The scheduler's section if poll() may take it in line (dispatch.py), else None
        cs = sched.critical_section
        self._lock = cs if getattr(cs, "lock_direct", False) else None
        if wake_socket is None:
            wake_socket = _hosted()
        if wake_socket:
            self._waker = WakeSocket.open()
        if self._waker is not None:
            self._poll.register(self._waker.rx, POLLIN)
            self._waker_key = self._waker.rx if port.IS_MICROPYTHON else self._waker.rx.fileno()
            self.max_idle_us = _LONG_IDLE_US
        # Longest blind idle (a wait no readiness ends) in the sub-ms rest of a wait: poll's
        # timeout is in ms (dispatch.py, ``rest``). None: one idle for the rest, as on boards
        # (no wake socket): a zero poll there costs tens of µs, not measured yet
        self.rest_slice_us = _REST_SLICE_US if self._waker is not None else None

    # -- registration (wait.py) ---------------------------------------------------------------

    @micropython.native
    def add(self, slot, obj, mask):
        """Park ``slot`` until ``obj`` is ready for ``mask`` (POLLIN or POLLOUT). Raises
        ``IOBusy`` if another task waits for the same, ``NotPollable``/``StreamClosed`` if
        ``select.poll`` refuses ``obj``. Allocates nothing for an object seen before. Not
        ISR-safe (the scheduler's context: ``wait_readable``/``wait_writable`` call it)."""
        key = obj if _MP else fileno_of(obj)
        entry = self._entries.get(key)
        if entry is None:
            entry = watch(self._poll, obj, key)
            entry.poller = self
            self._entries[key] = entry
        elif entry.obj is not obj:
            entry.obj = obj  # CPython: a new object on a reused descriptor
        if mask == POLLIN:
            if entry.reader is not None:
                raise waiter_busy(entry.reader, obj, "readable")
            entry.reader = slot
        else:
            if entry.writer is not None:
                raise waiter_busy(entry.writer, obj, "writable")
            entry.writer = slot
        if not entry.mask & mask:  # not armed yet (a wake leaves it armed: see the module note)
            entry.mask |= mask
            self._poll.modify(obj, entry.mask)
        slot.io_entry = entry
        slot.io_mask = mask
        slot.io_events = 0
        slot.waiting_on = self
        slot.dirty = True  # (see TaskSlot.dirty)
        self.waiters += 1

    @micropython.native
    def remove(self, slot):
        """Take ``slot`` off its wait without waking it (cancellation, timeout, completion:
        the scheduler calls it through ``slot.waiting_on``). Allocates nothing. Not
        ISR-safe."""
        entry = slot.io_entry
        if entry is not None:  # (the slot is its reader or its writer: a wake clears io_entry)
            if entry.reader is slot:
                entry.reader = None
                self._quiet(entry, POLLIN)
            elif entry.writer is slot:
                entry.writer = None
                self._quiet(entry, POLLOUT)
        slot.io_entry = None
        slot.waiting_on = None
        self.waiters -= 1
        slot.io_obj = None

    def _quiet(self, entry, mask):
        entry.mask &= ~mask
        if entry.key in self._entries:
            try:
                self._poll.modify(entry.obj, entry.mask)
            except (ValueError, OSError):  # closed meanwhile: forget it
                self._drop(entry)

    def forget(self, obj):
        """Stop watching ``obj`` (call before closing it). Tasks waiting on it are woken
        with ``StreamClosed``. Not ISR-safe."""
        key = obj if port.IS_MICROPYTHON else fileno_of(obj)
        entry = self._entries.get(key)
        if entry is None and not port.IS_MICROPYTHON:
            for e in self._entries.values():  # closed already: its descriptor is gone
                if e.obj is obj:
                    entry = e
                    break
        if entry is not None:
            self._fire(entry, POLLNVAL)
            self._drop(entry)

    def _drop(self, entry):
        entry.poller = None  # (with no mask: a Stream's in-line re-arm never takes it again)
        entry.mask = 0
        self._entries.pop(entry.key, None)
        try:
            self._poll.unregister(entry.obj)
        except (KeyError, ValueError, OSError):
            pass

    # -- dispatch -------------------------------------------------------------------------

    @micropython.native
    def _fire(self, entry, ev):
        # Wake the tasks of ``entry`` that ``ev`` concerns; returns how many.
        n = 0
        slot = entry.reader
        if slot is not None and ev & _RD_WAKE:
            entry.reader = None
            entry.mask &= ~POLLIN
            _ready(self, slot, ev)
            n += 1
        slot = entry.writer
        if slot is not None and ev & _WR_WAKE:
            entry.writer = None
            entry.mask &= ~POLLOUT
            _ready(self, slot, ev)
            n += 1
        return n

    # poll(timeout_ms), wait_us(us, idle) and rest(...), the hot half: dispatch.py
    from .dispatch import poll, rest, wait_us

    # -- the wake socket ------------------------------------------------------------------

    def notify(self):
        """End a ``wait_us`` in progress (the scheduler's ``idle_notify``). Safe from another
        thread; not from a hard interrupt handler (it sends on a socket)."""
        if self.sleeping and self._waker is not None:
            self._waker.signal()

    def ring(self):
        """End the idle wait in progress or the next one, asleep or not yet (a byte stays
        pending until a poll reads it): for news the doze does not look at (``notify``'s
        note). Safe from another thread; not from a hard interrupt handler."""
        if self._waker is not None:
            self._waker.signal()

    def close(self):
        """Unregister everything (waiting tasks get ``StreamClosed``) and close the wake
        socket. The scheduler makes a new poller on the next I/O wait. Not ISR-safe."""
        for entry in list(self._entries.values()):
            self._fire(entry, POLLNVAL)
            self._drop(entry)
        if self.sched.poller is self:
            self.sched.poller = None
            self.sched.idle_notify = None
        if self._waker is not None:
            self._poll.unregister(self._waker.rx)
            self._waker.close()
            self._waker = self._waker_key = None
            self.max_idle_us = None


def poller_for(sched):
    """The ``IOPoller`` of ``sched``, made on first use (and hooked into ``sched.wake`` so that
    a wake ends the loop's idle). Not ISR-safe. ``WrongLevel`` for an ``InterruptScheduler``:
    no run loop polls I/O at that level, so its tasks would wait for ever."""
    p = sched.poller
    if p is None:
        if sched.level:
            raise WrongLevel("an interrupt-level task cannot wait for I/O (nothing polls it at "
                             "that level): wait in a thread-level task and wake this one with "
                             "a primitive (WaitCell, Event, Channel)")
        p = sched.poller = IOPoller(sched)
        if p.max_idle_us is not None:
            sched.idle_notify = p.notify
    return p


def _hosted():
    import sys

    return not port.IS_MICROPYTHON or sys.platform == "linux"
