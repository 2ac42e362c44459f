"""``wait_for``, ``wait_for_ms`` and ``gather``, with MicroPython asyncio's semantics.

``wait_for`` follows MicroPython's algorithm step for step (a runner task and a sleeping
waiter), so tasks interleave exactly as they do there, and error texts match. ``gather`` keeps
its outcomes, its errors and when it resumes, but waits differently: MicroPython sets a
completion callback on every gathered task and counts them down; here the gather joins one
unfinished task at a time, the last one first (in FIFO order usually the last to finish), and
only a failure looks the gather up (``task._Gather``). A task that returns costs the gather two
reads, and the gather resumes once the last task has finished, as there, or at the first
failure without ``return_exceptions``.
"""

import micropython

from .. import core
from ..sync.semaphore import _Acquire
from ..task.slot import OK, PENDING, JoinHandle, TaskSlot, _value_of
from .loop import create_task, current_task
from .onworkers import refuse_on_worker
from .sleeping import SleepMs, adopt_armed_sleep, sleep, sleep_ms
from .task import (
    _REMOVE,
    CancelledError,
    Task,
    TimeoutError,
    _Gather,
    _gathered,
    _gathers,
)

_ctx = core.context
_threads = core._threads


async def _join(aw):
    try:
        return await aw
    except CancelledError:
        if isinstance(aw, JoinHandle) and not aw.is_complete():
            aw.cancel()  # a shimeji task given to wait_for/gather is cancelled with it
        raise


_NOT_AWAITABLE = (str, bytes)  # iterable, but never awaitables
# (MicroPython: shimeji's native awaitables show __next__ only, as type 'iterator')


def _promote(aw):
    if isinstance(aw, Task):
        return aw
    if isinstance(aw, JoinHandle) or not hasattr(aw, "send"):
        if isinstance(aw, _NOT_AWAITABLE) or not (
                hasattr(aw, "__await__") or hasattr(aw, "__iter__") or hasattr(aw, "__next__")):
            # (None, a number, an async function not called: refused here, as asyncio's
            # create_task does, not later inside a task made to await it)
            raise TypeError("coroutine expected: pass a coroutine, Task or awaitable, got %r"
                            % (aw,))
        sleep = adopt_armed_sleep(aw)  # shimeji.sleep_ms(n): armed on the calling task
        if sleep is not None:
            return create_task(sleep)
        if aw.__class__ is _Acquire:  # Semaphore.acquire(n) kept n on the calling task
            slot = _ctx.slot
            key = slot.wait_key
            slot.wait_key = None
            return create_task(_acquire_in_task(aw, key))
        return create_task(_join(aw))  # a shimeji handle or a plain awaitable (Event.wait())
    if aw.__class__ is SleepMs:
        aw.unarm()  # (its caller's entry would wake the caller for nothing)
    return create_task(aw)


async def _acquire_in_task(aw, n):
    core.current_slot().wait_key = n  # where Semaphore.acquire(n) would have put it
    return await aw


async def _run(waiter, aw):
    try:
        result = await aw
        status = True
    except BaseException as er:  # noqa: BLE001 (handed to the waiter)
        result = None
        status = er
    if waiter.data is None and waiter._state() <= PENDING:
        # The waiter still sleeps: wake it with the outcome inside its CancelledError.
        waiter.throw_in(CancelledError(status, result))


async def wait_for(aw, timeout, sleep=sleep):
    """Await ``aw`` for at most ``timeout`` seconds (None: no limit); ``TimeoutError`` when it
    takes longer (``aw`` is cancelled). Cancelling the caller cancels ``aw``. ``WrongThread``
    on an executor worker's thread (``shimeji.timeout(aw, ms)`` works there)."""
    if _threads:
        refuse_on_worker("asyncio.wait_for()")
    aw = _promote(aw)
    if timeout is None:
        return await aw
    runner = create_task(_run(current_task(), aw))
    try:
        await sleep(timeout)
    except CancelledError as er:
        status = er.args[0] if er.args else None
        if status is None:
            runner.cancel()  # cancelled from outside: cancel aw too
            raise er
        if status is True:
            return er.args[1]
        raise status  # noqa: B904 (aw's own exception)
    runner.cancel()
    await runner
    raise TimeoutError


def wait_for_ms(aw, timeout):
    """``wait_for`` with ``timeout`` in milliseconds."""
    return wait_for(aw, timeout, sleep_ms)


@micropython.native
def _gather_start(aws, return_exceptions, _task=Task, _slot_type=TaskSlot, _gathers=_gathers):
    # The tasks to gather (awaitables other than Tasks made tasks), and asyncio's first loop:
    # how many to wait for, or a negative count when one has already failed (then the gather
    # does not wait). A task being awaited, or gathered by another gather, cannot be gathered.
    # ``ts`` stays the caller's tuple unless an awaitable has to be made a task (copying it
    # into a list costs ~200 instructions a task); _gather_end copies it if it writes results.
    ts = aws
    n = len(ts)
    state = 0
    for i in range(n):
        t = ts[i]
        if t.__class__ is not _task:  # (an attribute read: cheaper than a call of type)
            if ts is aws:
                ts = list(aws)
            t = _promote(t)
            ts[i] = t
        ref = t._ref
        if ref.__class__ is _slot_type:
            if t.state is not True or (_gathers and _gathered(t)):
                if ts is aws:
                    ts = list(aws)
                for j in range(i + 1, n):  # all made tasks first, as asyncio does: a refused
                    if ts[j].__class__ is not _task:  # gather still runs them
                        ts[j] = _promote(ts[j])
                raise RuntimeError("can't gather")
            state += 1
        elif ref is not None and not return_exceptions and t._state() != OK:
            state = -n  # a task already failed: do not wait at all
    return ts, state


@micropython.native
def _gather_end(ts, state, cancel_all, return_exceptions, _slot_type=TaskSlot):
    # asyncio's last loop: results in place of the tasks; the exception to raise, if any.
    if not state:
        for t in ts:
            if t._ref is not None:
                break
        else:
            return [None] * len(ts)  # every task returned None (the common case)
    if type(ts) is tuple:
        ts = list(ts)  # the caller's tuple (see _gather_start): the results need a list
    for i in range(len(ts)):
        t = ts[i]
        ref = t._ref
        if ref is None:  # returned None
            ts[i] = None
        elif ref.__class__ is _slot_type:  # still running (the gather ended early)
            if cancel_all:
                t.cancel()
        elif return_exceptions or t._state() == OK:
            ts[i] = _value_of(ref)
        elif isinstance(state, int):
            state = _value_of(ref)
    if state:
        raise state
    return ts


async def gather(*aws, return_exceptions=False):
    """Run the awaitables concurrently; returns their results in order. The first exception
    is raised (the others keep running) unless ``return_exceptions`` puts exceptions in the
    list. Cancelling the gather cancels the tasks still running. ``WrongThread`` on an
    executor worker's thread."""
    if _threads:
        refuse_on_worker("asyncio.gather()")
    ts, state = _gather_start(aws, return_exceptions)
    cancel_all = False
    if state > 0:
        slot = _ctx.slot
        gt = slot.handle
        if not slot.handle_out:  # a detached task's handle: its fields (sched/detached.py)
            gt._ref = slot
            gt.id = slot.id
        g = _Gather(gt, ts, return_exceptions)
        _gathers.append(g)
        gt.data = _REMOVE
        try:
            await g
        except CancelledError as er:
            cancel_all = True
            g.state = er
        finally:
            if g in _gathers:  # (new_event_loop() forgets the gathers of a dropped loop)
                _gathers.remove(g)
            if gt.data is _REMOVE:
                gt.data = None
        state = g.state
        if not state and not g.values:  # every task seen finished, each having returned None
            return [None] * len(ts)
    return _gather_end(ts, state, cancel_all, return_exceptions)
