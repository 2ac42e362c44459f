"""Spawning and joining from inside a task, without a global scheduler variable.

``spawn(coro)`` runs ``coro`` on the scheduler of the task that calls it; ``join_all(*handles)``
waits for several tasks at once, like asyncio's ``gather`` for handles.
"""

import micropython

from .. import core
from ..errors import BadArgument
from ..task.slot import CANCELLED, FAILED, JoinHandle, TaskSlot, _Returned


@micropython.native
def spawn(coro, name=None, _ctx=core.context, _threads=core._threads, slot_here=core.slot_here,
          _slot=core.task_slot):
    """Spawn ``coro`` on the calling task's own scheduler; returns its ``JoinHandle``.

    Raises ``NoCurrentTask`` outside a task, as on the REPL's thread while a background loop
    thread polls (use ``sched.spawn`` there, ``bg.spawn`` while a background runs), and whatever
    ``sched.spawn`` raises (``PoolFull``, ``NotACoroutine``...). Not ISR-safe."""
    # core.task_slot()'s common case in line: the context's slot, no executor worker, no
    # ThreadBackground (whose loop thread tells which thread polls): native, no global read
    # (defaults), ~4k instructions less a spawn than three bytecode calls' look-ups.
    slot = _ctx.slot
    if slot is None or _threads:
        slot = _slot()  # raises NoCurrentTask outside a task
    elif slot_here[0] is None:
        pass
    else:
        slot = _slot()
    return slot.sched.spawn(coro, name)


def _walks(jh, nil, kit):
    """``join_all``'s two walks over its handles, as viper functions (closures over the class
    and None: viper compares objects with objects only): an index loop is machine code, where
    the native coroutine's ``for`` over the tuple is a runtime call per handle (~140
    instructions on the unix port) and its counter an object."""

    @micropython.viper
    def first_odd(handles, n: int) -> int:
        # The index of the first of the ``n`` handles that is not exactly a JoinHandle; n if
        # none. (``n`` passed in: ``len`` here would be a global look-up.)
        i = 0
        while i < n:
            if handles[i].__class__ is jh:  # (no ``is not``: a second runtime call)
                i += 1
            else:
                return i
        return n

    @micropython.viper
    def first_pending(handles, i: int, n: int) -> int:
        # From ``i``, the index of the first of the ``n`` handles whose task has not returned
        # None (a JoinHandle's ``_ref`` is None exactly then); n if none.
        while i < n:
            if handles[i]._ref is nil:
                i += 1
            else:
                return i
        return n

    @micropython.viper
    def first_open(handles, values, i: int, n: int) -> int:
        # From ``i``, the index of the first of the ``n`` handles that is not exactly a
        # JoinHandle whose task returned (join_all's common end, one walk); n if none. A
        # returned value goes into ``values`` as its await would give it. One cell, ``kit``
        # (a closure called with more than five cells and arguments allocates); its names
        # are names interned before this module (a new one renumbers the later qstrs).
        jh, nil, _Returned, _obj, isinstance, exc_type = kit  # (exc_type: kept wrapped)
        while i < n:
            h = handles[i]
            if h.__class__ is jh:
                r = h._ref
                if r is nil:
                    i += 1
                    continue
                t = r.__class__  # a wrapped value, detached or unused (object); a task
                if t is _Returned or t is _obj or isinstance(r, exc_type):  # running,
                    return i  # failed or cancelled (its slot, its exception): awaited
                values[i] = r
                i += 1
            else:
                return i
        return n

    return first_odd, first_pending, first_open


_first_odd, _first_pending, _first_open = _walks(
    JoinHandle, None, (JoinHandle, None, _Returned, object, isinstance, (BaseException, TaskSlot)))


@micropython.native
async def join_all(*handles, return_exceptions=False, _jh=JoinHandle, _isinstance=isinstance,
                   _odd=_first_odd, _pending=_first_pending, _open=_first_open,
                   _slot_type=TaskSlot, _yield=core.yield_now):
    """Await every handle in ``handles``; returns their results in argument order.

    The tasks run concurrently (they were spawned already); ``join_all`` collects them in
    order. If one is still running, the awaiting task first yields once (as ``yield_now``),
    so that the tasks already runnable run before it looks again: tasks that end in their
    first poll are then collected in one pass, with no handle awaited. A task that failed or
    was cancelled makes ``join_all`` raise its error (the first in argument order) once the
    handles before it are joined; with ``return_exceptions=True`` its exception
    (``Cancelled`` for a cancelled task) takes its place in the list instead.
    Cancelling the task that awaits ``join_all`` raises ``Cancelled`` in it and leaves the
    joined tasks running. Tasks only (not ISR-safe); allocates the result list. Anything
    but a ``JoinHandle`` among ``handles``: ``BadArgument`` before any is awaited."""
    # Design note: the common end is one walk (_open) over handles whose tasks returned None.
    # A task still running (its handle's _ref its slot) is most often one spawned just before
    # (a batch): a yield puts this task behind the runnable ones, as a join's park and wake of
    # the first would (the first's completion queues the joiner behind the others), at the
    # cost of one poll, and one walk then finds them done: no class walk, no pending walk, no
    # await of a handle (-236 instructions a task of a batch of 100, tools/instr.py). Tasks
    # that need more rounds are joined as before, one poll later.
    n = len(handles)
    results = [None] * n  # (first: after the yield the tasks may have filled the heap)
    i = _open(handles, results, 0, n)
    if i < n:
        h = handles[i]
        if h.__class__ is _jh and h._ref.__class__ is _slot_type:  # a task still running
            await _yield()
            i = _open(handles, results, i, n)
    if i >= n:
        return results
    start = i  # (the handles before it are collected)
    i = _odd(handles, n)
    plain = i == n  # every one a JoinHandle itself (no subclass: a facade Task's await does more)
    while i < n:
        if not _isinstance(handles[i], _jh):
            raise BadArgument("join_all(*handles): argument %d is %r, not a JoinHandle: pass "
                              "what spawn() returned (spawn(coro), not coro)"
                              % (i + 1, handles[i]))
        i += 1
    i = start
    while True:
        if plain:  # a handle whose task returned None: its place holds None already
            i = _pending(handles, i, n)
        if i >= n:
            return results
        handle = handles[i]
        if plain or handle._ref is not None or handle.__class__ is not _jh:
            # (a subclass's await may do more than a finished JoinHandle's: a facade Task's)
            try:
                results[i] = await handle
            except BaseException as e:  # noqa: BLE001 (a joined task's Cancelled is its outcome)
                status = handle._state()
                if not return_exceptions or (status != FAILED and status != CANCELLED):
                    raise e  # (a bare raise is not supported in native code)
                results[i] = e
        i += 1
