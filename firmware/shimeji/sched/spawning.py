"""Spawning and joining from inside a task, without a global scheduler variable.

``spawn(coro)`` runs ``coro`` on the scheduler of the task that calls it; ``join_all(*handles)``
waits for several tasks at once, like asyncio's ``gather`` for handles.
"""

import micropython

from .. import core
from ..errors import BadArgument
from ..task.slot import CANCELLED, FAILED, JoinHandle


def spawn(coro, name=None):
    """Spawn ``coro`` on the calling task's own scheduler; returns its ``JoinHandle``.

    Raises ``NoCurrentTask`` outside a task, as on the REPL's thread while a background loop
    thread polls (use ``sched.spawn`` there, ``bg.spawn`` while a background runs), and whatever
    ``sched.spawn`` raises (``PoolFull``, ``NotACoroutine``...). Not ISR-safe."""
    return core.task_slot().sched.spawn(coro, name)


@micropython.native
async def join_all(*handles, return_exceptions=False, _jh=JoinHandle, _isinstance=isinstance):
    """Await every handle in ``handles``; returns their results in argument order.

    The tasks run concurrently (they were spawned already); ``join_all`` collects them in
    order. A task that failed or was cancelled makes ``join_all`` raise its error (the first
    in argument order) once the handles before it are joined; with ``return_exceptions=True``
    its exception (``Cancelled`` for a cancelled task) takes its place in the list instead.
    Cancelling the task that awaits ``join_all`` raises ``Cancelled`` in it and leaves the
    joined tasks running. Tasks only (not ISR-safe); allocates the result list. Anything
    but a ``JoinHandle`` among ``handles``: ``BadArgument`` before any is awaited."""
    plain = True  # every one a JoinHandle itself (no subclass: a facade Task's await does more)
    for handle in handles:
        if handle.__class__ is _jh:
            continue
        plain = False
        if not _isinstance(handle, _jh):
            i = 0
            while handles[i] is not handle:  # (the first bad one, by identity)
                i += 1
            raise BadArgument("join_all(*handles): argument %d is %r, not a JoinHandle: pass "
                              "what spawn() returned (spawn(coro), not coro)"
                              % (i + 1, handles[i]))
    results = [None] * len(handles)
    i = 0
    for handle in handles:
        if handle._ref is None and (plain or handle.__class__ is _jh):  # finished, returned
            # None: its place holds None already (a subclass's await may do more: a facade
            # Task's; ``plain``: the first pass saw none, so no class is read again here)
            i += 1
            continue
        try:
            results[i] = await handle
        except BaseException as e:  # noqa: BLE001 (a joined task's Cancelled is its outcome)
            status = handle._state()
            if not return_exceptions or (status != FAILED and status != CANCELLED):
                raise e  # (a bare raise is not supported in native code)
            results[i] = e
        i += 1
    return results
