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

from .. import core, port
from ..errors import kept_error
from ..task.slot import _DONE_ITER, JoinHandle, TaskSlot, _finish
from ..task.waitlist import wake_joiners
from ..task.words import addr_of
from ..yielding import _deque, _ring
from .endtick import (
    end_tick,  # noqa: F401 (StaticScheduler._end_tick reads it here)
    ended_aside,
    poll_interrupted,
    poll_outcome,
)

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython (never called there: the ring is MicroPython's)

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
    k = None  # the task that __iter__ saw await (the slot it joins: the kit's last item)
    exc = None  # what the hand-off's poll ended with (a cell: viper clears it after except)

    @micropython.viper
    def accept(it):  # the filter's test of an item: a JOIN links, the kit raises the outcome
        nonlocal k, exc
        (append, _ring_iter, join, context, _finish, threads_checked, TaskSlot, hand, ref,
         sched) = kit
        if it is join:
            me = k
            k = nil
            if me is context.slot:  # (else a stale item, skipped: see __iter__)
                news = ptr32(sched._news)  # word 2: the polls its FIFO tick still may make
                if news[2] >= 2 and ref is sched._local_head and ref is sched._local_tail and \
                        me.run_next is me:  # (an inbox with tasks: _local_ok, __iter__'s, False)
                    gsend, stop, base, vip, rare = hand  # (rare: unpacked where it is read)
                    sw = ptr32(int(ref.wa)) if vip else ptr32(ref.wa)
                    if sw[1] == 0 and sw[7] == 0:  # the hand-off (the design note below)
                        news[2] = news[2] - 1  # the child's poll (word 3: the hand-off's polls)
                        news[3] = news[3] + 1
                        news[0] = 0  # (set by a wake into the inbox meanwhile: read below)
                        sw[0] = 2  # RUNNING
                        context.slot = ref
                        status = 0
                        value = r = nil
                        try:
                            r = gsend(ref.coro, nil)
                        except stop as exc:
                            status = 2
                            value = exc.value
                        except BaseException as exc:
                            status = -1
                            value = exc
                        context.slot = me
                        woke = news[0]
                        news[0] = 1  # (as the spawn left it: the tick splices its list)
                        stays = 0
                        alone = 1  # the child is the spawns' whole list still
                        if status == 0:  # it waits: what the tick does with what it yielded
                            sleep, park = rare[0], rare[1]
                            if r is nil:
                                sw[0] = 1
                                stays = 1
                            elif r is sleep:
                                if sched._park_sleep(ref):
                                    stays = 1
                            elif r is join:
                                sw[2] = 0
                                sw[0] = 4
                            elif r is park:
                                if sched._park(ref):
                                    stays = 1
                            else:
                                sched._foreign(ref, r)
                                stays = 1
                        if stays == 0:  # off the spawns' list (still its head)
                            if ref is sched._local_tail:
                                sched._local_head = sched._local_tail = nil
                            else:
                                sched._local_head = ref.run_next
                                alone = 0
                            news[6] = news[6] + 1  # (the tick adds it to sched._spawned)
                        if status == 0:
                            pass  # me joins it below, as without the hand-off
                        else:
                            if status < 0:
                                status = int(rare[2](sched, value))  # poll_outcome
                                if status == 0:  # KeyboardInterrupt, SystemExit
                                    raise rare[3](sched, ref, value)  # poll_interrupted
                            if news[4] == 0:  # (once a tick: its class's _complete)
                                news[4] = 2 if sched.__class__._complete is base[0] else 1
                            if status == 2 and news[4] == 2 and (value is nil or not rare[7](
                                    value, rare[8])):  # (a returned error or slot: _complete)
                                ref.handle._ref = value  # the tick's in-line completion
                                if sw[4] < 0xFFFF:  # its timer armed, never awaited
                                    ref.timer.cancel()
                                home = 1
                                if ref.dirty:
                                    ref.dirty = False
                                    if ref.owner is not sched:
                                        home = 0
                                    rare[4](ref)  # ended_aside
                                    joiners = ref.joiners
                                    if joiners.head is not nil:
                                        rare[5](joiners, ref.id, 2, value)  # wake_joiners
                                ref.coro = nil
                                sw[7] = 0
                                sw[0] = 0
                                sw[2] = 0
                                if home:
                                    ref.run_next = sched._free_head
                                    sched._free_head = ref
                                else:
                                    ref.sched = nil
                                    if ref.pooled:
                                        ref.owner._give_back(ref)
                            else:
                                if status == 3:  # FAILED: a copy if it is the emergency
                                    ref.coro = nil  # object (first: its frame is freed)
                                    value = rare[6](value)  # kept_error: _complete keeps it
                                sched._complete(ref, status, value)
                            news[5] = news[5] + 1  # a completion and its joiner's wake
                            mw = ptr32(int(me.wa)) if vip else ptr32(me.wa)
                            mw[2] = 0  # (a wake of me meanwhile: ignored, as by a parked join)
                            if alone and woke == 0 and mw[1] == 0:  # nothing else to run:
                                # me goes on
                                news[2] = news[2] - 1  # (me's poll that the join took)
                                news[3] = news[3] + 1
                                if status == 2 and value is nil:
                                    return nil  # (the filter ends: the await gives None)
                                return _finish(status, value, me)  # raised at the await
                            if mw[1] == 0 and (status != 2 or value is not nil):
                                me.wait_status = status  # given at its next poll (_throw_in)
                                me.wait_value = value
                                me.throw_exc = join
                                mw[1] = 1
                                me.dirty = True
                            append(nil)  # me yields once: queued behind what became runnable
                            return nil
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
        if it is nil:  # the hand-off's one yield (a None: the tick queues me again)
            return join
        me = context.slot  # (_throw_in put the kit in: the join ended with a value or error)
        outcome = me.wait_status
        value = me.wait_value
        me.wait_phase = 0
        me.wait_status = 0
        me.wait_value = nil
        return _finish(outcome, value, me)  # raises

    @micropython.viper
    def __iter__(self):
        # (the awaiting task is noted, and linked by accept only when it is the one polled:
        # an iter(handle) never iterated links nothing, its item is skipped)
        nonlocal k
        ref = self._ref
        if ref is nil:
            return done
        append, _ring_iter, join, context, _finish, threads_checked, TaskSlot, hand, _, _ = kit
        if threads_checked[0]:  # a worker or a loop thread: __next__ (core.current_slot's)
            return self
        if ref.__class__ is TaskSlot:  # running: a join of its scheduler's tick here?
            me = context.slot
            sched = ref.sched
            if me is nil or ref is me or sched is nil:  # (JoinSelf: __next__'s)
                return self
            if sched._local_ok and int(me.wait_phase) == 0:  # me's tick polls here
                kit[8] = ref
                kit[9] = sched  # (its scheduler: accept reads it here, not ref.sched again)
                k = me
                append(join)
                return _ring_iter
        return self  # (a value, detached, another thread or scheduler: __next__)

    return __iter__, accept


# The kit: the deque's append, the filter over its iterator, JOIN, the context, _finish,
# core.threads_checked, TaskSlot, what the hand-off reads, the slot __iter__ saw awaited and its
# scheduler (unpacked at once in viper: one call, where an index is one each); itself the item
# _throw_in puts in the deque for a join that ended with an outcome.
_kit = None
if _ring is not None:  # yielding.py's probe: the deque's C iterator (MicroPython)
    try:
        it = _deque((), 4)
        _kit = [it.append, iter(it), core.JOIN, core.context, _finish, core.threads_checked,
                TaskSlot, (port.CORO_TYPE.send, StopIteration, base_complete,
                           1 if type(addr_of(bytearray(4))) is int else 0,
                           (core.SLEEP, core.PARK, poll_outcome, poll_interrupted, ended_aside,
                            wake_joiners, kept_error, isinstance, (BaseException, TaskSlot))),
                None, None]
        k = bind(_kit, None, _DONE_ITER)
        _kit[1] = filter(k[1], _kit[1])
        JoinHandle.__iter__ = k[0]
    except NameError:  # (a port built without filter keeps __next__)
        _kit = None
