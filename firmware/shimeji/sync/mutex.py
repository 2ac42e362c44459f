"""``Mutex``: an async lock with strict FIFO hand-off, like asyncio's ``Lock``.

``async with m:`` (or ``await m.lock()`` ... ``m.unlock()``) holds the lock. ``unlock()`` hands
it straight to the oldest waiter, so a task that just released cannot take it back first and
no waiter starves. A hand-off to a task that is cancelled before it resumes passes the lock
on to the next waiter (or frees it). A task parking on a held lock lends its priority to the
holder through the policy, only between tasks of one level (thread or interrupt, see
docs/preemption.md). A holder's loan is always the most urgent of the waiters on every Mutex
it holds: it is recomputed when a waiter parks, leaves (cancelled, timed out) or a lock is
released, and passed along a chain (A waits on B's lock while B waits on C's: C runs at A's
priority).
"""

import micropython

from .. import core
from ..errors import LockHeldBySelf, LockNotHeld
from .waitqueue import DONE, WAITING, GuardAwaitable, WaitQueue, accept, own_next

_ctx = core.context  # the calling task is _ctx.slot unless executor workers are registered
_threads = core._threads  # (then the calling thread tells: core.running_slot())


class Mutex:
    """A fair async mutual-exclusion lock. ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        self._q = WaitQueue(critical_section, self._abandoned, self._left)
        self._q.lends_to = self
        self._locked = False
        self._held_next = None  # the next Mutex held by the same task (slot.held_locks)
        self._holder = None  # holder's slot; None when held outside any task
        self._holder_id = 0
        self._lock = _Lock(self)

    def locked(self):
        """True while some task (or context) holds the lock. ISR-safe."""
        return self._locked

    def waiters(self):
        """How many tasks wait. ISR-safe."""
        return self._q.count

    def lock(self):
        """Awaitable: acquire the lock, waiting in FIFO order. Allocates nothing. Also works as
        ``async with m.lock():``. Not ISR-safe (tasks only)."""
        return self._lock

    def try_lock(self):
        """Acquire the lock if it is free and nobody waits; True on success. Not ISR-safe
        (call from a task or the main loop)."""
        q = self._q
        me = (core.running_slot() if _threads else _ctx.slot)  # (outside the section: calls)
        state = q._enter()
        ok = not self._locked
        if ok:
            self._take(me)
        q._exit(state)
        return ok

    def unlock(self):
        """Release the lock and hand it to the oldest waiter. Raises ``LockNotHeld`` if the
        caller does not hold it. Not ISR-safe."""
        me = (core.running_slot() if _threads else _ctx.slot)
        if not self._locked or self._holder is not me or (
            me is not None and me.id != self._holder_id
        ):
            raise LockNotHeld("unlock() by a task that does not hold this Mutex: only the "
                              "task that acquired it may release it (use 'async with')")
        self._release()

    def __aenter__(self):
        """``async with m:`` acquires. Not ISR-safe (tasks only)."""
        return self._lock

    def __aexit__(self, exc_type, exc, tb):
        """Releases (also when the body raised). Not ISR-safe (tasks only)."""
        self._guard_exit(exc_type)
        return DONE

    def _guard_exit(self, exc_type):
        # ``async with`` exits only after its acquire completed, so this coroutine holds the
        # lock. When the coroutine is being closed (``scheduler.close()``, garbage collection:
        # GeneratorExit) it is not the running task, so release without the owner check.
        if exc_type is GeneratorExit or core.running_slot() is None:
            if self._locked:
                self._release()
        else:
            self.unlock()

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _release(self):
        holder = self._holder
        q = self._q
        state = q._enter()
        try:
            self._hand_off()
        finally:
            q._exit(state)
        reloan(holder)  # what its other locks' waiters lend it, if any
        reloan(self._holder)  # the new holder blocks the waiters behind it

    def _take(self, slot):
        self._locked = True
        self._holder = slot
        if slot is None:
            self._holder_id = 0
        else:
            self._holder_id = slot.id
            self._held_next = slot.held_locks
            slot.held_locks = self

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _hand_off(self):
        # Caller holds the section.
        old = self._holder
        if old is not None:  # unlink this lock from the old holder's held list
            m = old.held_locks
            if m is self:
                old.held_locks = self._held_next
            else:
                while m is not None and m._held_next is not self:
                    m = m._held_next
                if m is not None:
                    m._held_next = self._held_next
            self._held_next = None
        q = self._q
        slot = q.head
        if slot is None:
            self._locked = False
            self._holder = None
            self._holder_id = 0
        else:
            self._take(slot)
            try:
                q.grant(slot)
            except BaseException as e:  # not handed over (the waiter still waits, first in line):
                slot.held_locks = self._held_next  # the lock is free; the next unlock of a
                self._held_next = None  # later holder hands it to that waiter
                self._locked = False
                self._holder = None
                self._holder_id = 0
                raise e

    def _abandoned(self, slot):
        # The lock was handed to ``slot``, which was cancelled before it resumed.
        if self._holder is slot:
            self._hand_off()
            reloan(self._holder)

    def _left(self):
        # A waiter left (cancelled, timed out): its loan to the holder ends.
        reloan(self._holder)


_CHAIN_MAX = 16  # locks followed along a chain of waiters at most (a deadlock cycle ends)


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def reloan(holder):
    """Recompute ``holder``'s priority loan from the waiters of every Mutex it holds, then
    that of the holder it waits for, along the chain. Allocation-free. Tasks only."""
    depth = 0
    while holder is not None and depth < _CHAIN_MAX and _same_level(holder):
        policy = holder.sched.policy
        best = None
        m = holder.held_locks
        while m is not None:
            if m._holder is holder and m._holder_id == holder.id:
                w = m._q.head
                while w is not None:
                    if best is None or policy.more_urgent(w, best):
                        best = w
                    w = w.wait_next
            m = m._held_next
        before = holder.priority
        policy.loan(holder, best)
        if holder.priority == before and depth:
            return  # nothing changed: the rest of the chain is as it was
        q = holder.waiting_on
        if q is None or q.lends_to is None or holder.wait_status != WAITING:
            return
        holder = q.lends_to._holder
        depth += 1


def _same_level(holder):
    # A policy is touched only from its own level: a thread-level policy may be in the middle
    # of a change when the interrupt level runs (docs/preemption.md), so no loan crosses levels.
    sched = holder.sched
    if sched is None:
        return False
    running = core.current_context().sched if _threads else _ctx.sched
    return running is None or running.level == sched.level


class _Lock(GuardAwaitable):
    def __init__(self, mutex):
        self.mutex = mutex
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    def release(self, exc_type=None):
        self.mutex._guard_exit(exc_type)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        m = self.mutex
        q = m._q
        if me.wait_phase == 0:
            state = q._enter()
            if not m._locked and q.head is not None:
                try:  # only after a hand-off whose wake raised (free, its waiter first)
                    m._hand_off()
                except BaseException as e:
                    q._exit(state)
                    raise e
            if not m._locked:
                m._take(me)
                q._exit(state)
                raise self._finish.done()
            if m._holder is me and m._holder_id == me.id:
                q._exit(state)
                raise LockHeldBySelf("this task already holds the Mutex: locking it again "
                                     "would wait forever (a Mutex is not re-entrant)")
            try:  # (WaitList.push asserts the task waits on nothing else)
                q.link(me)
            except BaseException as e:
                q._exit(state)
                raise e
            me.wait_phase = 1
            holder = m._holder
            q._exit(state)
            reloan(holder)
            return _park
        if me.wait_status == WAITING:
            return _park
        accept(me)  # the lock was handed to us (a Mutex is never closed)
        raise self._finish.done()
