"""``wait_for``, ``wait_for_ms`` and ``gather``, with MicroPython asyncio's semantics.

Both follow MicroPython's algorithms step for step (a runner task and a sleeping waiter for
``wait_for``; completion callbacks on the gathered tasks for ``gather``), so tasks interleave
exactly as they do there, and error texts match.
"""

from .. import core
from ..task.slot import OK, PENDING, JoinHandle, _value_of
from .loop import create_task, current_task, sleep, sleep_ms
from .task import _REMOVE, CancelledError, Task, TimeoutError, _Gather

_ctx = core.context


async def _join(aw):
    try:
        return await aw
    except CancelledError:
        if isinstance(aw, JoinHandle) and not aw.is_complete():
            aw.cancel()  # a shimeji task given to wait_for/gather is cancelled with it
        raise


def _promote(aw):
    if isinstance(aw, Task):
        return aw
    if isinstance(aw, JoinHandle) or not hasattr(aw, "send"):
        return create_task(_join(aw))  # a shimeji handle or a plain awaitable (Event.wait())
    return create_task(aw)


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
    takes longer (``aw`` is cancelled). Cancelling the caller cancels ``aw``."""
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


class _Park:
    """Awaitable: park until woken, once (the gather's own wait)."""

    def __init__(self):
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        me = _ctx.slot
        if me.wait_phase == 0:
            me.wait_phase = 1
            return core.PARK
        me.wait_phase = 0
        raise self._finish.done()


_park = _Park()
async def gather(*aws, return_exceptions=False):
    """Run the awaitables concurrently; returns their results in order. The first exception
    is raised (the others keep running) unless ``return_exceptions`` puts exceptions in the
    list. Cancelling the gather cancels the tasks still running."""
    ts = [aw if type(aw) is Task else _promote(aw) for aw in aws]
    g = _Gather(current_task(), return_exceptions)
    state = 0
    for t in ts:
        st = t.state
        if st is True:
            t.state = g
            state += 1
        elif not st:
            if t._state() != OK and not return_exceptions:
                state = -len(ts)  # a task already failed: do not wait at all
        else:
            raise RuntimeError("can't gather")
    g.state = state
    gt = g.task
    cancel_all = False
    if state > 0:
        gt.data = _REMOVE
        try:
            await _park
        except CancelledError as er:
            cancel_all = True
            g.state = er
        finally:
            if gt.data is _REMOVE:
                gt.data = None
    state = g.state
    for i in range(len(ts)):
        t = ts[i]
        if t.state is g:
            t.state = True
            if cancel_all:
                t.cancel()
        elif t._ref is None:  # returned None (the common case), without a call
            ts[i] = None
        elif t._state() == OK:
            ts[i] = _value_of(t._ref)
        elif return_exceptions:
            ts[i] = _value_of(t._ref)
        elif isinstance(state, int):
            state = _value_of(t._ref)
    if state:
        raise state
    return ts
