"""The facade beside an executor's workers: what a worker's thread may not do
(``refuse_on_worker``), and a ``Future`` between threads (a worker's task awaiting a Future of
the loop).

Design note: a Future between threads. While an executor's workers are registered
(``core._threads``), a worker's task may await a Future of the asyncio loop, and a worker's
task may set, fail or cancel one (docs/executor.md, "Session 20"). Then the Future's state
change, the awaiting task's registration and the finish's taking of the awaiters all run
under the runtime's critical section: the awaiter re-checks the state inside it, so no finish
falls between its check and its park, and two threads settling at once leave one outcome (the
other gets ``InvalidStateError``, or False from ``cancel``). The done callbacks run on the
loop's thread (from a worker's, ``call_soon_threadsafe`` hands their runner over:
futures.py). Nothing is allocated inside the section: a longer callback list is made before it
and swapped in if no other thread changed it meanwhile. Without workers none of this runs (one
truth test).
"""

from micropython import const

from .. import core
from ..errors import Cancelled, WrongThread
from ..sync.critical import default_critical_section
from ..task.slot import TaskSlot
from ..task.waitlist import WaitList

_PENDING = const(0)  # (futures.py's states)
_ctx = core.context
_threads = core._threads


_TASKS = ("the asyncio facade's tasks belong to its loop's thread (create_task, gather, "
          "wait_for, timeout, current_task, a Task's await, cancel and done callbacks). On a "
          "worker use shimeji's own: spawn(coro) and await its handle, join_all(), "
          "timeout(aw, ms), current_task(); await an asyncio.Future or Event the loop sets; "
          "or hand work to the loop with loop.call_soon_threadsafe()")


def refuse_on_worker(what, why=_TASKS):
    """Raise ``WrongThread`` when called on an executor worker's thread: the facade's tasks
    and loop belong to the loop's thread (a worker's task would link into the loop's
    queues from another thread, or find the loop's task as its own). ``why``: what belongs
    to the loop and what to use on a worker instead. Callers test ``_threads`` first, so a
    program without an executor pays one truth test."""
    if _threads and core.current_context() is not _ctx:
        raise WrongThread("%s on an executor worker's thread: %s (docs/executor.md)"
                          % (what, why))


def locked_add(fut, entry):
    """``Future.add_done_callback``'s add while workers are registered: ``entry`` appended to
    ``fut``'s callbacks if it is pending (True), else False (the caller calls it soon). A
    longer list is made outside the section and swapped in if no other thread changed the
    list meanwhile: an append in place could be lost to a worker task's registration, which
    swaps in a longer copy of the list it read (``locked_wait``; session 21)."""
    cs = default_critical_section()
    while True:
        old = fut._callbacks
        longer = [entry] if old is None else old + [entry]
        s = cs.enter()
        if fut._state != _PENDING:
            cs.exit(s)
            return False
        same = fut._callbacks is old
        if same:
            fut._callbacks = longer
        cs.exit(s)
        if same:
            return True


def locked_remove(fut, keep):
    """``remove_done_callback`` while workers are registered: ``fut``'s callbacks for which
    ``keep(entry)`` is false are dropped (a shorter list swapped in under the section, as
    ``locked_add``); returns how many."""
    cs = default_critical_section()
    while True:
        old = fut._callbacks
        if not old:
            return 0
        kept = [e for e in old if keep(e)]
        s = cs.enter()
        same = fut._callbacks is old
        if same:
            fut._callbacks = kept
        cs.exit(s)
        if same:
            return len(old) - len(kept)


def locked_settle(fut, state, result, exc):
    """Make ``fut`` done (``state``, ``result``, ``exc``) if it is pending: True; False if
    it was not (another thread settled it first). The caller then finishes it (``_finish``:
    ``locked_finish`` wakes the awaiters)."""
    cs = default_critical_section()
    s = cs.enter()
    ok = fut._state == _PENDING
    if ok:
        fut._result = result
        fut._exception = exc
        fut._state = state
    cs.exit(s)
    return ok


def locked_finish(fut):
    """Take ``fut``'s awaiters and callbacks under the section and wake the awaiters still
    linked; returns the entries (the callbacks among them are the caller's to run)."""
    cs = default_critical_section()
    s = cs.enter()
    entries = fut._callbacks
    fut._callbacks = None
    q = fut._waiters
    if entries:
        for e in entries:
            if type(e) is TaskSlot and e.waiting_on is q:
                q.remove(e)
                if e.sched is not None:
                    e.sched.wake(e)  # (allocation-free, from any thread)
    cs.exit(s)
    return entries


def locked_wait(fut, me):
    """``Future.__iter__``'s wait of the task in slot ``me`` while workers are registered:
    park until ``fut`` is done (its result is the caller's to read). Cancelling the task
    cancels ``fut``, as CPython's."""
    cs = default_critical_section()
    q = fut._waiters
    if q is None:
        made = WaitList()  # (outside the section; the first one set is kept)
        s = cs.enter()
        if fut._waiters is None:
            fut._waiters = made
        cs.exit(s)
        q = fut._waiters
    try:
        while True:
            old = fut._callbacks
            longer = None if me.waiting_on is q else [me] if old is None else old + [me]
            s = cs.enter()
            if fut._state != _PENDING:
                cs.exit(s)
                return
            if longer is not None:
                if fut._callbacks is not old:  # another thread added meanwhile: again
                    cs.exit(s)
                    continue
                q.push(me)
                fut._callbacks = longer
            cs.exit(s)
            yield core.PARK
    except Cancelled:
        fut.cancel()  # (CPython: cancelling the awaiting task cancels the Future)
        raise
    finally:
        s = cs.enter()
        if me.waiting_on is q:
            q.remove(me)
        cs.exit(s)
