"""``Semaphore``: a pool of permits handed out in strict FIFO order.

``await sem.acquire(n)`` takes ``n`` permits, waiting if fewer are free; ``release(n)`` (alias
``add_permits``) gives them back and hands them to waiters in arrival order. A waiter that
wants more permits than are free blocks later, smaller requests: no waiter starves. Permits
granted to a task that is cancelled before it resumes go back to the pool. ``release``,
``add_permits``, ``try_acquire`` and ``close`` may be called from an interrupt handler.
"""

import micropython
from micropython import const

from .. import core
from ..errors import InvalidPermits, premade
from .waitqueue import (
    CLOSED,
    DONE,
    WAITING,
    Awaitable,
    WaitQueue,
    accept,
    closed_error,
    own_next,
)

_MAX_PERMITS = const(0x3FFFFFFF)  # stays a small int on 32-bit boards
MAX_PERMITS = _MAX_PERMITS


def _check(n, what):
    if type(n) is not int or n < 0 or n > _MAX_PERMITS:
        _refuse(what, n)


# The refusal an interrupt handler meets (release, try_acquire: a locked heap, where a new
# error would be a MemoryError): made with the first Semaphore (errors.premade), raised only
# where a new one finds no heap, where no traceback entry is allocated for it either.
_LOCKED = [None]
_LOCKED_MESSAGE = ("a permit count out of range (an int from 0 to MAX_PERMITS, and no more "
                   "than MAX_PERMITS in all), refused in an interrupt handler: release only "
                   "permits you acquired")


def _refuse(what, n):
    try:  # (the message made in here: its tuple too finds no heap in an interrupt handler)
        if what is None:
            e = InvalidPermits("releasing %d permits would pass MAX_PERMITS (%d): release "
                               "only permits you acquired" % (n, _MAX_PERMITS))
        else:
            e = InvalidPermits("%s must be an int from 0 to %d permits, got %r"
                               % (what, _MAX_PERMITS, n))
    except MemoryError:  # (the heap is locked: an interrupt handler)
        e = _LOCKED[0][0]
    raise e


class Semaphore:
    """``permits`` free permits to start with. ``critical_section``: default the runtime's."""

    def __init__(self, permits=0, critical_section=None):
        _check(permits, "Semaphore(permits)")
        if _LOCKED[0] is None:
            _LOCKED[0] = premade(InvalidPermits, _LOCKED_MESSAGE)
        self._q = WaitQueue(critical_section, self._abandoned, self._grant)
        self._permits = permits
        self._acquire = _Acquire(self)

    def available(self):
        """Free permits now. ISR-safe."""
        return self._permits

    def waiters(self):
        """How many tasks wait. ISR-safe."""
        return self._q.count

    @property
    def closed(self):
        """True once ``close()`` was called. ISR-safe."""
        return self._q.closed

    def acquire(self, n=1):
        """Awaitable: take ``n`` permits, waiting (in FIFO order) until they are free. Raises
        ``PrimitiveClosed`` if the semaphore is or gets closed. Allocates nothing. Not
        ISR-safe: await it at once in a task (``n`` is kept in the task's slot)."""
        _check(n, "acquire(n)")
        core.current_slot().wait_key = n
        return self._acquire

    def try_acquire(self, n=1):
        """Take ``n`` permits if they are free now and nobody waits; True on success.
        ISR-safe."""
        _check(n, "try_acquire(n)")
        q = self._q
        state = q._enter()
        ok = not q.closed and q.head is None and self._permits >= n
        if ok:
            self._permits -= n
        q._exit(state)
        return ok

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def release(self, n=1):
        """Give back ``n`` permits, waking the waiters they satisfy. ISR-safe, allocation-free.
        Raises ``InvalidPermits`` for a negative count or past ``MAX_PERMITS``."""
        _check(n, "release(n)")
        q = self._q
        state = q._enter()
        if self._permits > _MAX_PERMITS - n:  # not permits + n: that may pass 2**30
            q._exit(state)
            _refuse(None, n)
        self._permits += n
        try:
            self._grant()
        finally:
            q._exit(state)

    add_permits = release

    def close(self):
        """Wake every waiter with ``PrimitiveClosed``; later ``acquire`` calls raise it and
        ``try_acquire`` fails. Releasing stays allowed. ISR-safe."""
        self._q.close()

    def __aenter__(self):
        """``async with sem:`` takes one permit. Not ISR-safe (tasks only)."""
        return self.acquire(1)

    def __aexit__(self, exc_type, exc, tb):
        """Gives the permit back. Not ISR-safe (tasks only)."""
        self.release(1)
        return DONE

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _grant(self):
        # Caller holds the section: hand permits to waiters, oldest first, while they fit.
        q = self._q
        slot = q.head
        try:
            while slot is not None and self._permits >= slot.wait_key:
                self._permits -= slot.wait_key
                q.grant(slot)
                slot = q.head
        except BaseException as e:  # that waiter still waits (q.grant): its permits stay free
            self._permits += slot.wait_key
            raise e

    def _abandoned(self, slot):
        # A task granted permits was cancelled before it resumed: take them back.
        self._permits += slot.wait_key
        self._grant()


class _Acquire(Awaitable):
    def __init__(self, sem):
        self.sem = sem
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        sem = self.sem
        q = sem._q
        if me.wait_phase == 0:
            state = q._enter()
            if q.closed:
                q._exit(state)
                raise closed_error("Semaphore")
            head = q.head
            if head is not None and sem._permits >= head.wait_key:
                try:  # only after a grant whose wake raised (it waits, its permits free)
                    sem._grant()
                except BaseException as e:
                    q._exit(state)
                    raise e
            if q.head is None and sem._permits >= me.wait_key:
                sem._permits -= me.wait_key
                q._exit(state)
                me.wait_key = None
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
        status = accept(me)
        me.wait_key = None
        if status == CLOSED:
            raise closed_error("Semaphore")
        raise self._finish.done()
