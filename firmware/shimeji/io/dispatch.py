"""``IOPoller``'s hot half: ``poll`` (wake the tasks whose objects are ready) and ``wait_us``.

Imported into ``IOPoller``'s class body (poller.py), as the scheduler imports waking.py's
functions, and kept apart from the registration only for the modules' length. Every function
here runs on the loop's thread; none is ISR-safe, none allocates on MicroPython.

Design note: one wake, few calls. The usual event, "the task waiting to read this object
may read now", is handled in ``poll``'s loop itself: the waiter detached, then marked queued
and linked into the FIFO queue by ``_queue`` (viper: the state is a machine word), inside the
section taken in line (``StaticScheduler.wake``'s steps). Everything else (a writer, trouble,
nobody waiting, another policy, a trace, a task of another scheduler) goes through
``_dispatch`` and ``_ready``, the general forms of the same steps.

Design note: the in-line section records no owner. ``LockCriticalSection`` stores its owner
so that this thread can re-enter it and ``leave_interrupted`` can release what a Ctrl-C left
held. Between ``poll``'s ``acquire()`` and ``release()`` runs only native and viper code
(``_queue``, ``_to_inbox``): no check point, nothing that enters the section again; another
thread compares the owner with its own ident, which None fails as the loop thread's would.
A Ctrl-C raised there by the unix port's signal handler leaves the lock held with no owner,
which ``leave_interrupted`` handles as the window between an ``enter()``'s acquire and its
owner's store (released after ``_STUCK_MS``). Whether it may be taken so (``free``: no owner,
so this thread does not hold it) is read before a poll that may wait: only this thread could
take it for itself, and it does not while it polls.
"""

import micropython
from micropython import const

from .. import port
from ..core import wake
from ..trace.kinds import IO_READY as _IO_READY

_POLLIN = const(0x0001)
_POLLOUT = const(0x0004)
_TROUBLE = const(0x0038)  # POLLERR | POLLHUP | POLLNVAL
_RD_WAKE = const(0x0039)  # what ends a read wait: POLLIN or trouble
_WR_WAKE = const(0x003C)  # what ends a write wait: POLLOUT or trouble
_QUEUED = const(1)  # task states (core.py)
_RUNNING = const(2)
_WAITING = const(3)
_MASK = const(0x3FFFFFFF)
_HALF = const(0x1FFFFFFF)

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython


@micropython.viper
def _queue(slot, fifo, s, nil) -> bool:
    # poll's in-line wake, in the section: WAITING to QUEUED, into the FIFO queue (True) or the
    # inbox if it has some; RUNNING: rewoken. Viper: the state word (task/words.py), not two
    # generic subscripts; poll holds it as a default argument (a global: 3 more pages a wake).
    sw = ptr32(slot.wa)
    if sw[0] == _WAITING:
        sw[0] = _QUEUED
        if s._inbox_head is nil:
            slot.run_next = nil
            tail = fifo.tail
            if tail is nil:
                fifo.head = slot
            else:
                tail.run_next = slot
            fifo.tail = slot
            return True
        _to_inbox(s, slot)
        s._woken_ext = int(s._woken_ext) + 1
    elif sw[0] == _RUNNING:
        sw[2] = 1
    return False


@micropython.native
def poll(self, timeout_ms=0, tally=True, _queue=_queue):
    """Poll once, waiting at most ``timeout_ms`` (0: just look), and wake every task whose
    object is ready; returns how many. Allocates nothing on MicroPython; not ISR-safe.
    (``tally`` False: wakes linked into the queue not counted for the next ``Tick``.)"""
    woken = 0
    waker = self._waker_key
    ipoll = self._ipoll
    if ipoll is None:  # CPython: descriptors, and no hurry
        for fd, ev in self._poll.poll(timeout_ms):
            if fd == waker:
                _woke_up(self)
            else:
                woken += _dispatch(self, fd, ev)
        return woken
    entries = self._entries
    sched = self.sched
    # The FIFO queue a ready reader goes into: None for another policy, a traced scheduler,
    # a worker or inside a tick (only the loop's thread changes those); read before a poll
    # that may wait, not between readiness and the task's run.
    fifo = sched  # (not known yet)
    # A LockCriticalSection, taken in line below: its calls, read before a poll that may
    # wait too (the wake costs the acquire and release only). ``free``: this thread does not
    # hold it (no owner recorded), so it may be acquired directly (the module's note).
    lock = acquire = release = None
    free = False
    state = 0
    if timeout_ms:
        fifo = _fifo_of(sched)
        lock = self._lock
        if lock is None:  # (no ``is not`` here: in native code, a runtime call more)
            pass
        else:
            acquire = lock._acquire
            release = lock._release
            free = lock._owner is None
    for obj, ev in ipoll(timeout_ms):
        if obj is waker:
            _woke_up(self)
            continue
        entry = entries.get(obj)
        if entry is None:
            continue
        slot = entry.reader
        if ev ^ _POLLIN or slot is None:  # (not POLLIN alone: in native code != is a call)
            woken += _dispatch(self, obj, ev)
            continue
        # A reader may read: _dispatch and _ready in line for a plain FIFO scheduler (reading
        # stays armed: poller.py's note; POLLIN alone concerns no writer, and is no trouble:
        # io_events stays 0 from add(), which ReadOp's in-line re-arm never reads).
        entry.reader = None
        slot.io_entry = None
        slot.waiting_on = None
        self.waiters -= 1
        woken += 1
        if fifo is sched:
            fifo = _fifo_of(sched)
            lock = self._lock
            if lock is not None:
                acquire = lock._acquire
                release = lock._release
                free = lock._owner is None
        s = slot.sched
        if s is sched:
            if fifo is None:
                _wake(self, slot, ev)
                continue
        else:
            _wake(self, slot, ev)
            continue
        # The section: a free LockCriticalSection in line (the module's note), else _enter()
        if free:
            acquire()
        else:
            state = s._enter()
        if _queue(slot, fifo, s, None) and tally:
            s._woken_timer += 1  # (counted for the next Tick; the lean loop does not read it)
        if free:
            release()
        else:
            s._exit(state)
    return woken


@micropython.native
def _fifo_of(sched):
    # sched's FifoPolicy, if a ready reader may be linked into it directly, else None.
    fifo = sched._fifo
    if fifo is None or sched._trace is not None or sched._polling or sched.parallel:
        return None
    return fifo


def _woke_up(self):
    # The wake socket's byte: read it back and count the idle it ended.
    self._waker.drain()
    w = self.wakeups
    self.wakeups = w + 1 if w < _MASK else 0


@micropython.native
def _to_inbox(s, slot):
    # Link ``slot`` at the end of ``s``'s inbox (the caller holds the section).
    slot.inbox_next = None
    tail = s._inbox_tail
    if tail is None:
        s._inbox_head = slot
    else:
        tail.inbox_next = slot
    s._inbox_tail = slot
    s._news[0] = 1  # (tick_fifo reads this one word per poll)


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
            _ready(self, slot, ev)
            n = 1
        elif ev & _POLLIN and entry.mask & _POLLIN:
            spare = _POLLIN
    slot = entry.writer
    if ev & _WR_WAKE:
        if slot is not None:
            entry.writer = None
            _ready(self, slot, ev)
            n += 1
        elif ev & _POLLOUT and entry.mask & _POLLOUT:
            spare |= _POLLOUT
    if ev & _TROUBLE and entry.reader is None and entry.writer is None:
        self._drop(entry)  # hung up or closed and nobody waits: stop reporting it
    elif spare:
        entry.mask &= ~spare
        self._poll.modify(entry.obj, entry.mask)
    return n


@micropython.native
def _ready(self, slot, ev):
    # Detach ``slot`` from its wait and make it runnable.
    slot.io_events = ev
    slot.io_entry = None
    slot.waiting_on = None
    self.waiters -= 1
    _wake(self, slot, ev)


@micropython.native
def _wake(self, slot, ev):
    # StaticScheduler.wake in line, without its idle_notify (the loop is awake: it is the one
    # dispatching); a task of another scheduler or a traced one through wake(). (A ring
    # sleeper, ASLEEP, is neither WAITING nor RUNNING: ignored below, as wake() does.)
    s = slot.sched
    if s is not self.sched or s._trace is not None:
        self.sleeping = False  # (no wake byte for a wake the loop makes itself)
        if s is not None and s._trace is not None:
            s._trace.record_isr(_IO_READY, slot.id, ev)
        wake(slot)
        return
    state = s._enter()
    st = slot.w[0]
    if st == _WAITING:
        slot.w[0] = _QUEUED
        fifo = s._fifo
        if fifo is not None and not s._polling and not s.parallel and s._inbox_head is None:
            slot.run_next = None  # into the FIFO queue, as in poll() above
            tail = fifo.tail
            if tail is None:
                fifo.head = slot
            else:
                tail.run_next = slot
            fifo.tail = slot
            s._woken_timer += 1
        else:
            _to_inbox(s, slot)
            if s._polling:
                s._local_ok = False  # spawns follow it (sched/lifecycle.py's spawn)
                s._woken_int += 1
            else:
                s._woken_ext += 1
    elif st == _RUNNING:
        slot.w[2] = 1  # rewoken (task/words.py)
    s._exit(state)


@micropython.native
def doze(self):
    """Set ``sleeping`` and look at the inbox, inside the section a wake links under: True if
    nothing is queued (``sleeping`` stays set for the poll), else False (cleared). A wake from
    another thread then either queued before the look or reads ``sleeping`` after it (and
    sends the wake byte). Bare, a CPU that lets a load pass an earlier store (x86 does) could
    let both miss the other: the idle then ran to its end (up to 1 s). A free
    ``LockCriticalSection`` is taken in line, as ``poll`` takes it; without a wake socket
    nobody reads ``sleeping``: no section. Not ISR-safe (the run loop calls it)."""
    sched = self.sched
    lock = self._lock
    if self._waker is None:
        self.sleeping = True
        empty = sched._inbox_head is None
    elif lock is not None and lock._owner is None:
        lock._acquire()
        self.sleeping = True
        empty = sched._inbox_head is None
        lock._release()
    else:
        state = sched._enter()
        self.sleeping = True
        empty = sched._inbox_head is None
        sched._exit(state)
    if empty:
        return True
    self.sleeping = False
    return False


@micropython.native
def wait_us(self, us, idle=None):
    """Idle for at most ``us`` µs: in ``poll`` (ms resolution, rounded down) and, for the
    sub-ms rest when nothing became ready, in ``idle(us)`` (the board's primitive) so that
    timer deadlines keep µs precision. Returns the number of tasks woken. Not ISR-safe (the
    run loop calls it)."""
    ms = us // 1000
    if not doze(self):  # a wake raced with going to sleep
        return 0
    try:
        woken = poll(self, ms)
    finally:
        self.sleeping = False
    if woken == 0 and ms == 0 and idle is not None and self.sched._inbox_head is None:
        timer = self.sched.timer
        if timer is not None and hasattr(timer, "clock"):
            clock = timer.clock
            return rest(self, us, idle, clock.source, clock.unit_us)
        idle(us)
    return woken


@micropython.native
def rest(self, us, idle, source, unit):
    """Idle the sub-ms rest ``us`` of a wait (a poll's timeout is in ms) in ``idle`` slices of
    at most ``rest_slice_us``, polling with a zero timeout after each, until ``us`` has passed
    on the clock ``source`` (wrapping ticks of ``unit`` µs), an object is ready or another
    thread queued a wake. Returns the number of tasks woken. The timer keeps its µs
    precision (the last slice ends where one ``idle(us)`` would) and I/O waits at most one
    slice; ``rest_slice_us`` None: one blind ``idle(us)``, as before. Not ISR-safe (the run
    loop calls it); allocation-free."""
    sl = self.rest_slice_us
    if sl is None:
        idle(us)
        return 0
    end = (source() + us // unit) & _MASK
    sched = self.sched
    while True:
        if us > sl:
            idle(sl)
        else:
            idle(us)
        woken = poll(self, 0)
        if woken:
            return woken
        if sched._inbox_head is None:
            pass
        else:
            return 0  # another thread's wake (no wake byte: the loop was not in poll)
        left = (end - source()) & _MASK
        if left > _HALF:  # (wrapped: the end has passed)
            return 0
        us = left * unit
        if us <= 0:
            return 0
