"""``WaitQueue``: FIFO waiters woken one at a time or all at once; the base of every primitive.

A waiter is its task's slot, linked through the slot's own ``wait_*`` fields, so waiting and
waking allocate nothing. Per-waiter state lives in the slot: ``wait_status`` says why the task
was taken off the queue (``WAITING`` still on it, ``WOKEN`` by a wake or a grant, ``CLOSED``).

Design note: a wake that must not be lost. ``wake()`` hands the wake to one task: the slot
leaves the list but keeps ``waiting_on`` pointing here until the task runs and accepts it. If
the task is cancelled first, the scheduler's ``waiting_on.remove(slot)`` lands in ``remove``
below, which passes the wake on to the next waiter (or calls ``on_abandon``, which a Mutex or
Semaphore uses to hand its lock or permits on). So nothing is ever given to a dead task.

Design note: a section's exit is certain. Every section here ends in ``finally`` (or leaves
before anything that can raise): a wake that raises (a stack overflow on core 1's small stack,
a scheduler's ``wake`` or trace that fails, Ctrl-C), an ``on_leave``/``on_abandon`` callback that
raises, never leaves the critical section held (docs/sync.md, "Exceptions inside a section").
A wake that raised did not happen: ``grant``/``release`` put the task back at the head of the
queue, still waiting, and the caller sees the exception; calling it again reaches the task.
"""

import micropython
from micropython import const

from .. import core, port
from ..errors import BadArgument, PrimitiveClosed
from ..task.waitlist import WaitList
from .critical import default_critical_section, exit_of

WAITING = const(0)  # linked on the queue
WOKEN = const(1)  # taken off by a wake or grant; the task has not accepted it yet
CLOSED = const(2)  # taken off by close()


_MP = port.IS_MICROPYTHON


def own_next(aw):
    """Keep ``aw.__next__`` in the instance's own table on MicroPython (called once, by each
    awaitable's ``__init__``: a bound method allocated per primitive, never per wait).

    Design note: resuming a task parked in ``await aw`` looks ``__next__`` up on ``aw``
    (``mp_resume``): for a class instance a miss in the instance's table, then the class's;
    the bound method kept in the instance's table is found at once, ~270 instructions fewer
    per resumption, two per wait (the first ``__next__`` and the one after the wake), as for
    the I/O awaitables (io/readop.py's design note). CPython looks special methods up on the
    type only, so there it is not set. Each ``__next__`` also reads its task's slot from the
    context in line (``_ctx.slot``, a default-argument local; ``core.current_slot()`` only
    where that is None: a worker thread, or no task) and returns ``_park``, a local too: a
    bytecode call and two global look-ups fewer per resumption."""
    if _MP:
        aw.__next__ = aw.__next__


class Awaitable:
    """Base of the primitives' awaitables: one object per primitive, per-task state in the
    task's slot, so ``await`` allocates nothing."""

    def __iter__(self):
        return self

    __await__ = __iter__


class GuardAwaitable(Awaitable):
    """An acquiring awaitable that also works as ``async with``: it releases on exit."""

    def __aenter__(self):
        """Acquire on entering ``async with``. Not ISR-safe (tasks only)."""
        return self

    def __aexit__(self, exc_type, exc, tb):
        """Release on leaving ``async with``. Not ISR-safe (tasks only)."""
        self.release(exc_type)
        return DONE


class _Done(Awaitable):
    """An awaitable that completes at once (``__aexit__`` returns it)."""

    def __init__(self):
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    def __next__(self):
        raise self._finish.done()


DONE = _Done()


def section(critical_section):
    """The given critical section, or the runtime's shared one; ``BadArgument`` for anything
    without ``enter``/``exit`` (set-up only)."""
    if critical_section is None:
        return default_critical_section()
    if not (hasattr(critical_section, "enter") and hasattr(critical_section, "exit")):
        raise BadArgument("critical_section=%r: give a critical section (LockCriticalSection, "
                          "IrqCriticalSection, ... with enter() and exit()) or leave it out"
                          % (critical_section,))
    return critical_section


def closed_error(what):
    return PrimitiveClosed("this %s was closed: stop waiting on it, or make a new one" % what)


def finish_with(finish, value, slot):
    """End the awaitable of the task in ``slot`` with ``value``: allocation-free on
    MicroPython (``_values.ValueFinish``, one per scheduler)."""
    if value is None:
        return finish.done()
    return slot.sched.value_finish.done(value)


class WaitQueue(WaitList):
    """FIFO of waiting tasks. ``await q.wait()`` parks until ``wake()``/``wake_all()``.

    ``critical_section``: guards the list against interrupt handlers (default: the runtime's).
    ``on_abandon(slot)``: called, inside the section, when a task that was woken is cancelled
    before it ran; the default passes the wake on to the next waiter. ``on_leave()``: called,
    inside the section, after a task that was still waiting left (cancelled, timed out), so a
    primitive whose head blocked smaller requests (Semaphore, RwLock) can admit them now."""

    lends_to = None  # the Mutex whose holder a waiter here lends its priority to

    def __init__(self, critical_section=None, on_abandon=None, on_leave=None):
        WaitList.__init__(self)
        cs = section(critical_section)
        self.critical_section = cs
        self._enter = cs.enter
        self._exit = exit_of(cs)
        self.closed = False
        self.on_abandon = on_abandon
        self.on_leave = on_leave
        self._wait = _Wait(self)

    def wait(self):
        """Awaitable: park until woken. Raises ``PrimitiveClosed`` if the queue is (or gets)
        closed. Allocates nothing. Not ISR-safe (tasks only)."""
        return self._wait

    # -- ISR-safe entry points -----------------------------------------------------------------

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def wake(self):
        """Wake the oldest waiter; True if there was one. ISR-safe, allocation-free."""
        state = self._enter()
        try:
            return self.grant_head()
        finally:
            self._exit(state)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def wake_all(self):
        """Wake every waiter; returns how many. ISR-safe, allocation-free."""
        state = self._enter()
        try:
            return self.release_all(WOKEN)
        finally:
            self._exit(state)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def close(self):
        """Wake every waiter with ``PrimitiveClosed``; later waits raise it too. ISR-safe."""
        state = self._enter()
        try:
            self.closed = True
            self.release_all(CLOSED)
        finally:
            self._exit(state)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def remove(self, slot):
        """Take ``slot`` off the queue (the scheduler calls it when a waiter is cancelled). A
        wake it had not yet accepted goes to the next waiter (see the module note). Takes the
        critical section, so it is safe against interrupt-side wakes; not called from ISRs."""
        state = self._enter()
        try:  # on_leave, on_abandon and the grant's wake may raise
            if slot.waiting_on is self:
                if slot.wait_status == WAITING:
                    WaitList.remove(self, slot)
                    if self.on_leave is not None:
                        self.on_leave()
                else:
                    slot.waiting_on = None
                    if self.on_abandon is None:
                        self.grant_head()
                    else:
                        self.on_abandon(slot)
        finally:
            self._exit(state)

    # -- building blocks for primitives: the caller holds the critical section, so each is as
    # -- ISR-safe as its caller (all are allocation-free). ------------------------------------

    def link(self, slot):
        """Append ``slot`` as a waiter. Inside the section; ISR-safe there."""
        slot.wait_status = WAITING
        WaitList.push(self, slot)

    def link_front(self, slot):
        """Put ``slot`` back at the head (a woken waiter that found its chance taken).
        Inside the section; ISR-safe there."""
        slot.wait_status = WAITING
        slot.waiting_on = self
        slot.dirty = True  # (see TaskSlot.dirty)
        head = self.head
        slot.wait_prev = None
        slot.wait_next = head
        if head is None:
            self.tail = slot
        else:
            head.wait_prev = slot
        self.head = slot
        self.count += 1

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def grant(self, slot):
        """Take ``slot`` off the list and wake it with ``WOKEN``; it stays attached (its
        ``waiting_on``) until it accepts, so a cancellation hands the grant back. Inside the
        section; ISR-safe there."""
        WaitList.remove(self, slot)
        slot.waiting_on = self
        slot.wait_status = WOKEN
        try:
            core.wake(slot)
        except BaseException as e:
            self.link_front(slot)  # the wake did not happen: it still waits, first in line
            raise e

    def grant_head(self):
        """``grant`` the oldest waiter; False if none. Inside the section; ISR-safe there."""
        slot = self.head
        if slot is None:
            return False
        self.grant(slot)
        return True

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def release(self, slot, status):
        """Take ``slot`` off the list and wake it with ``status``, detached: a cancellation
        before it runs hands nothing back. Inside the section; ISR-safe there."""
        WaitList.remove(self, slot)
        slot.wait_status = status
        try:
            core.wake(slot)
        except BaseException as e:
            self.link_front(slot)  # (as in grant)
            raise e

    def release_all(self, status):
        """``release`` every waiter; returns how many. Inside the section; ISR-safe there."""
        n = 0
        slot = self.head
        while slot is not None:
            self.release(slot, status)
            n += 1
            slot = self.head
        return n


def accept(slot):
    """Task side, after seeing ``WOKEN`` or ``CLOSED``: detach and reset the wait fields;
    returns the status."""
    status = slot.wait_status
    slot.waiting_on = None
    slot.wait_phase = 0
    slot.wait_status = WAITING
    return status


class _Wait(Awaitable):
    def __init__(self, queue):
        self.queue = queue
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        q = self.queue
        if me.wait_phase == 0:
            state = q._enter()
            if q.closed:
                q._exit(state)
                raise closed_error("WaitQueue")
            try:  # (WaitList.push asserts the task waits on nothing else)
                q.link(me)
            except BaseException as e:
                q._exit(state)
                raise e
            me.wait_phase = 1
            q._exit(state)
            return _park
        if me.wait_status == WAITING:
            return _park  # a spurious wake: still queued
        if accept(me) == CLOSED:
            raise closed_error("WaitQueue")
        raise self._finish.done()
