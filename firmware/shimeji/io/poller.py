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
the MicroPython unix port) the poller makes a *wake socket*: a UDP socket on 127.0.0.1 that is
registered like any other object. ``StaticScheduler.wake`` calls ``notify()`` (its
``idle_notify``) when it queues a task outside a tick; ``notify`` sends one byte only while the
loop is inside ``poll`` and no byte is pending, so the idle ends at once and a busy loop pays
one flag test. On boards (no loopback, or wakes from hard interrupts, which must not touch a
socket) there is no wake socket: the loop bounds each wait by ``max_idle_us`` (the board's tick),
as it does without I/O, so an interrupt's wake is seen within one tick.
"""

import select

import micropython
from micropython import const

from .. import port
from ..core import wake
from ..trace.kinds import IO_READY as _IO_READY
from ..trace.kinds import PARK_IO
from .entry import fileno_of, waiter_busy, watch
from .waker import WakeSocket

POLLIN = const(0x0001)
POLLOUT = const(0x0004)
POLLERR = const(0x0008)
POLLHUP = const(0x0010)
POLLNVAL = const(0x0020)
_TROUBLE = const(0x0038)  # POLLERR | POLLHUP | POLLNVAL
_RD_WAKE = const(0x0039)  # what ends a read wait: POLLIN or trouble
_WR_WAKE = const(0x003C)  # what ends a write wait: POLLOUT or trouble
_QUEUED = const(1)  # task states (core.py)
_RUNNING = const(2)
_WAITING = const(3)
_LONG_IDLE_US = const(1000000)
_SLICE_US = const(1000)
_MP = port.IS_MICROPYTHON


class IOPoller:
    """The I/O waits of one scheduler's tasks (make it with ``poller_for(sched)``).

    ``waiters``: tasks waiting now. ``max_idle_us``: longest single idle when a wake socket
    ends idles early (1 s); None without one, and then an idle in poll lasts at most
    ``slice_us`` (1 ms: a poll does not end on an interrupt's wake). Nothing here is
    ISR-safe except ``notify``."""

    waits_for = PARK_IO  # what a task parked here waits on, for the trace and top()

    def __init__(self, sched, wake_socket=None):
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
        if wake_socket is None:
            wake_socket = _hosted()
        if wake_socket:
            self._waker = WakeSocket.open()
        if self._waker is not None:
            self._poll.register(self._waker.rx, POLLIN)
            self._waker_key = self._waker.rx if port.IS_MICROPYTHON else self._waker.rx.fileno()
            self.max_idle_us = _LONG_IDLE_US

    # -- registration (wait.py) ---------------------------------------------------------------

    @micropython.native
    def add(self, slot, obj, mask):
        """Park ``slot`` until ``obj`` is ready for ``mask`` (POLLIN or POLLOUT). Raises
        ``IOBusy`` if another task waits for the same, ``NotPollable``/``StreamClosed`` if
        ``select.poll`` refuses ``obj``. Allocates nothing for an object seen before."""
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
        self.waiters += 1

    @micropython.native
    def remove(self, slot):
        """Take ``slot`` off its wait without waking it (cancellation, timeout, completion:
        the scheduler calls it through ``slot.waiting_on``). Allocates nothing."""
        entry = slot.io_entry
        if entry is not None:
            if slot.io_mask == POLLIN:
                if entry.reader is slot:
                    entry.reader = None
            elif entry.writer is slot:
                entry.writer = None
            self._quiet(entry, slot.io_mask)
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
            self._ready(slot, ev)
            n += 1
        slot = entry.writer
        if slot is not None and ev & _WR_WAKE:
            entry.writer = None
            entry.mask &= ~POLLOUT
            self._ready(slot, ev)
            n += 1
        return n

    @micropython.native
    def poll(self, timeout_ms=0):
        """Poll once, waiting at most ``timeout_ms`` (0: just look), and wake every task whose
        object is ready. Returns the number of tasks woken. Allocates nothing on MicroPython.
        Not ISR-safe."""
        woken = 0
        waker = self._waker_key
        if self._ipoll is not None:
            for obj, ev in self._ipoll(timeout_ms):
                if obj is waker:
                    self._waker.drain()
                    w = self.wakeups
                    self.wakeups = w + 1 if w < 0x3FFFFFFF else 0
                else:
                    woken += self._dispatch(obj, ev)
        else:
            for fd, ev in self._poll.poll(timeout_ms):
                if fd == waker:
                    self._waker.drain()
                    w = self.wakeups
                    self.wakeups = w + 1 if w < 0x3FFFFFFF else 0
                else:
                    woken += self._dispatch(fd, ev)
        return woken

    @micropython.native
    def _dispatch(self, key, ev):
        # Wake the tasks that ``ev`` concerns; their directions stay armed for their next
        # wait. A direction reported ready with nobody waiting is switched off.
        entry = self._entries.get(key)
        if entry is None:
            return 0
        n = 0
        spare = 0
        slot = entry.reader
        if ev & _RD_WAKE:
            if slot is not None:
                entry.reader = None
                self._ready(slot, ev)
                n = 1
            elif ev & POLLIN and entry.mask & POLLIN:
                spare = POLLIN
        slot = entry.writer
        if ev & _WR_WAKE:
            if slot is not None:
                entry.writer = None
                self._ready(slot, ev)
                n += 1
            elif ev & POLLOUT and entry.mask & POLLOUT:
                spare |= POLLOUT
        if ev & _TROUBLE and entry.reader is None and entry.writer is None:
            self._drop(entry)  # hung up or closed and nobody waits: stop reporting it
        elif spare:
            entry.mask &= ~spare
            self._poll.modify(entry.obj, entry.mask)
        return n

    @micropython.native
    def _ready(self, slot, ev):
        # Detach ``slot`` from its wait and make it runnable: StaticScheduler.wake in line,
        # without its idle_notify (the loop is awake: it is the one dispatching).
        slot.io_events = ev
        slot.io_entry = None
        slot.waiting_on = None
        self.waiters -= 1
        s = slot.sched
        if s is not self.sched or s._trace is not None or slot.sleeping:
            self.sleeping = False  # (no wake byte for a wake the loop makes itself)
            if s is not None and s._trace is not None:
                s._trace.record_isr(_IO_READY, slot.id, ev)
            wake(slot)
            return
        state = s._enter()
        st = slot.state
        if st == _WAITING:
            slot.state = _QUEUED
            fifo = s._fifo
            if fifo is not None and not s._polling and not s.parallel and s._inbox_head is None:
                # Into the FIFO queue as the timer links sleepers (only the loop's thread
                # touches it): the tick then takes no section for the inbox or its counts.
                slot.run_next = None
                tail = fifo.tail
                if tail is None:
                    fifo.head = slot
                else:
                    tail.run_next = slot
                fifo.tail = slot
                s._woken_timer += 1  # the loop thread's own wakes, counted as external
            else:
                slot.inbox_next = None
                tail = s._inbox_tail
                if tail is None:
                    s._inbox_head = slot
                else:
                    tail.inbox_next = slot
                s._inbox_tail = slot
                if s._polling:
                    s._woken_int += 1
                else:
                    s._woken_ext += 1
        elif st == _RUNNING:
            slot.rewoken = True
        s._exit(state)

    @micropython.native
    def wait_us(self, us, idle=None):
        """Idle for at most ``us`` µs: in ``poll`` (ms resolution, rounded down) and, for the
        sub-ms rest when nothing became ready, in ``idle(us)`` (the board's primitive) so
        that timer deadlines keep µs precision. Returns the number of tasks woken. Not
        ISR-safe (the run loop calls it)."""
        ms = us // 1000
        self.sleeping = True
        if self.sched._inbox_head is not None:  # a wake raced with going to sleep
            self.sleeping = False
            return 0
        try:
            woken = self.poll(ms)
        finally:
            self.sleeping = False
        if woken == 0 and ms == 0 and idle is not None and self.sched._inbox_head is None:
            idle(us)
        return woken

    # -- the wake socket ------------------------------------------------------------------

    def notify(self):
        """End a ``wait_us`` in progress (the scheduler's ``idle_notify``). Safe from another
        thread; not from a hard interrupt handler (it sends on a socket)."""
        if self.sleeping and self._waker is not None:
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
    a wake ends the loop's idle). Not ISR-safe."""
    p = sched.poller
    if p is None:
        p = sched.poller = IOPoller(sched)
        if p.max_idle_us is not None:
            sched.idle_notify = p.notify
    return p


def _hosted():
    import sys

    return not port.IS_MICROPYTHON or sys.platform == "linux"
