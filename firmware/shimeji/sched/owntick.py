"""What every port's FIFO ticks share, apart from the native tick (fastpath.py), so that rp2
need not load that tick's code: ``base_complete``, rp2's ``tick_own``, and the join ring that
parks and resumes ``await handle`` for them (``bind``; ``StaticScheduler._throw_in`` resumes a
join that ended with a value or an error).

On rp2 (no GIL) every scheduler ticks with a viper closure of its own (``wordtick.bind``,
made in ``StaticScheduler.__init__``; an executor worker makes its own too), called by
``tick_own``. fastpath.py's native ``tick_fifo`` is then never called there: wordtick.py's
viper tick hands it a worker's tick only where a worker ticks with a binding not its own,
which no rp2 scheduler does. So rp2 does not import fastpath.py: ~10 KB of heap when shimeji
runs from armv6m ``.mpy`` files (docs/boards.md, "RP2040, session 22").
"""

import micropython

from .. import core
from ..task.slot import _DONE_ITER, JoinHandle, TaskSlot, _finish
from ..yielding import _deque, _ring
from .endtick import end_tick  # noqa: F401 (StaticScheduler._end_tick reads it here)

base_complete = [None]  # StaticScheduler._complete (scheduler.py sets it: it imports this)


@micropython.native
def tick_own(sched, n):
    """rp2's ``tick_fifo``: ``sched``'s own viper tick (``wordtick.bind``, made in __init__)."""
    return sched._tick_own(sched, n)


# -- the join ring: ``await handle`` parked and resumed by C iterators (MicroPython; design
# note: docs/architecture.md, "The life of a tick"). Only names the package had (a new one
# renumbers the qstrs after it: docs/benchmarks.md, "Session 23: await handle"); closures
# of at most 4 cells and one argument (more are copied into a heap block per call).
def bind(kit, nil, done):
    """``JoinHandle.__iter__`` by the join ring: ``kit`` (below), ``done`` for a task that
    returned None."""
    k = None  # the task that __iter__ saw await (the slot it joins in its wait_key)

    @micropython.viper
    def accept(it):  # the filter's test of an item: a JOIN links, the kit raises the outcome
        nonlocal k
        append, _ring_iter, join, context, _finish, threads_checked, TaskSlot = kit
        if it is join:
            me = k
            k = nil
            if me is context.slot:  # (else a stale item, skipped: see __iter__)
                ref = me.wait_key
                me.wait_phase = 3
                joiners = ref.joiners  # joiners.push(me), in line (as JoinHandle.__next__)
                last = joiners.tail
                me.waiting_on = joiners
                me.dirty = True
                ref.dirty = True
                if last is nil:
                    joiners.head = me
                else:
                    me.wait_prev = last
                    last.wait_next = me
                joiners.tail = me
                joiners.count = int(joiners.count) + 1
                return it
            return nil
        me = context.slot  # (_throw_in put the kit in: the join ended with a value or error)
        status = me.wait_status
        value = me.wait_value
        me.wait_phase = 0
        me.wait_status = 0
        me.wait_value = nil
        return _finish(status, value, me)  # raises

    @micropython.viper
    def __iter__(self):
        # (the awaiting task is noted, and linked by accept only when it is the one polled:
        # an iter(handle) never iterated links nothing, its item is skipped)
        nonlocal k
        ref = self._ref
        if ref is nil:
            return done
        append, _ring_iter, join, context, _finish, threads_checked, TaskSlot = kit
        if threads_checked[0]:  # a worker or a loop thread: __next__ (core.current_slot's)
            return self
        if ref.__class__ is TaskSlot:  # running: a join of its scheduler's tick here?
            me = context.slot
            sched = ref.sched
            if me is nil or ref is me or sched is nil:  # (JoinSelf: __next__'s)
                return self
            if sched._local_ok and int(me.wait_phase) == 0:  # me's tick polls here
                me.wait_key = ref
                k = me
                append(join)
                return _ring_iter
        return self  # (a value, detached, another thread or scheduler: __next__)

    return __iter__, accept


# The kit: the deque's append, the filter over its iterator, JOIN, the context, _finish,
# core.threads_checked, TaskSlot (unpacked at once in viper: one call, where an index is one
# each); itself the item _throw_in puts in the deque for a join that ended with an outcome.
_kit = None
if _ring is not None:  # yielding.py's probe: the deque's C iterator (MicroPython)
    try:
        it = _deque((), 4)
        _kit = [it.append, iter(it), core.JOIN, core.context, _finish, core.threads_checked,
                TaskSlot]
        k = bind(_kit, None, _DONE_ITER)
        _kit[1] = filter(k[1], _kit[1])
        JoinHandle.__iter__ = k[0]
    except NameError:  # (a port built without filter keeps __next__)
        _kit = None
