"""The traced ticks: ``StaticScheduler.tick`` runs one of these while a ``Trace`` is attached
(``trace/ring.py``).

Design note. Tracing must cost nothing when it is off, so the scheduler tests one attribute
per ``tick()`` (not per poll) and, with a trace attached, runs these copies of its two ticks
(``tracedfifo.py``'s copy of ``fastpath.tick_fifo`` for FIFO, ``tick_traced`` here of
``general.tick_general`` otherwise). A poll's POLL_BEGIN/POLL_END pair is written when the
poll ends, slotted around whatever the poll recorded meanwhile (spawns, wakes), so the ring
stays in order. Behaviour is the untraced ticks' (``host_tests/test_trace_ticks.py`` runs a
scenario both ways); the general variant reads the clock at both ends of a poll and charges
a timed policy with the same readings the records carry.
"""

import micropython
from micropython import const

from .. import core
from ..core import wrap_count
from ..errors import Cancelled
from ..task.pool import hold_local, release_local
from ..task.slot import CANCELLED, FAILED, OK
from .endtick import tick_kit
from .foreign import shield as _shield
from .tracedfifo import ended, tick_fifo_traced

_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)
_POS = const(0)  # the ring's header words (trace/ring.py)
_BEGIN = const(4)
_SIDE = const(5)
_START = const(6)
_END_YIELD = const(0)  # trace.kinds.END_*
_END_PARK = const(1)
_END_REWOKEN = const(2)
_END_DONE = const(3)
_END_FOREIGN = const(4)
_QUEUED = const(1)  # task.slot's QUEUED and RUNNING, written every poll: constants (an
_RUNNING = const(2)  # imported name read in native code is a global look-up, the name hashed)


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def tick_traced(sched, n):
    """``general.tick_general`` (the general path) with every poll recorded; a timed policy is
    charged with the same clock readings the records carry. Not ISR-safe."""
    ctx = sched._ctx
    outer_slot = ctx.slot
    outer_sched = ctx.sched
    outer_start = ctx.poll_start
    sched._polling = True
    outer_held = False
    if outer_sched is not None:  # a task of outer_sched drives this tick (see hold_local)
        outer_held = hold_local(outer_sched)
    ctx.sched = sched
    outer_tkit = ctx.tkit  # (sleep_ms: see fastpath.tick_fifo)
    ctx.tkit = tick_kit(sched)
    if sched._shielding:  # (False on an executor's worker: the executor raised it once)
        _shield.on()
    # The loop is a function of its own, called once a tick: a try body that held it would
    # pass what the classic ESP32's native code reaches from a try to its handler (~2 KB:
    # fastpath.py's "Shape" note; host_tests/test_tools_xtensa_reach.py).
    try:
        polled = _polls(sched, n, ctx)
    finally:
        if sched._shielding:
            _shield.off()
        sched._polling = False
        ctx.slot = outer_slot
        ctx.sched = outer_sched
        ctx.tkit = outer_tkit
        if outer_held:
            release_local(outer_sched)
        ctx.poll_start = outer_start
    return sched._end_tick(polled, sched._tick.completed)  # (_polls left it there)


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def _polls(sched, n, ctx):
    # tick_traced's loop: returns the polls, leaves the completions in sched._tick.completed.
    tr = sched._trace
    buf = tr.buf
    pick = sched._pick
    put_back = sched._put_back
    charge = sched._charge
    clock = tr.clock
    park = core.PARK
    polled = 0
    completed = 0
    if sched._inbox_head is not None:
        sched._drain_inbox()
    while polled < n:
        slot = pick()
        if slot is None:
            break
        polled += 1
        slot.w[0] = _RUNNING
        ctx.slot = slot
        if buf[_SIDE]:
            tr.drain()
        buf[_BEGIN] = buf[_POS]
        t0 = ctx.poll_start = buf[_START] = clock() & _MASK
        try:
            if slot.throw_exc is None:
                r = slot.coro.send(None)
            else:
                r = sched._throw_in(slot)
        except StopIteration as e:
            _charged_end(tr, buf, slot, t0, charge)
            sched._complete(slot, OK, e.value)
            completed += 1
            r = park
        except Cancelled as e:
            _charged_end(tr, buf, slot, t0, charge)
            sched._complete(slot, CANCELLED, e)
            completed += 1
            r = park
        except Exception as e:  # a failing task never takes the scheduler down
            _charged_end(tr, buf, slot, t0, charge)
            sched._complete(slot, FAILED, e)
            sched.failed_total = wrap_count(sched.failed_total, 1)
            completed += 1
            r = park
        except BaseException as e:  # KeyboardInterrupt, SystemExit: record, re-raise
            _charged_end(tr, buf, slot, t0, charge)
            ctx.slot = None
            sched._interrupted(slot, e)
            raise e  # (native code has no bare re-raise)
        ctx.slot = None
        if slot.w[0] == _RUNNING:  # (the state word: task/words.py)
            t1 = clock() & _MASK
            preempted = False
            if charge is not None:
                us = (t1 - t0) & _MASK
                preempted = charge(slot, us if us < _HALF else 0)
            if r is None:
                slot.w[0] = _QUEUED
                ended(tr, buf, slot, t1, _END_YIELD)
                if sched._inbox_head is not None:
                    sched._drain_inbox()  # what it woke goes first (fastpath.py)
                put_back(slot, preempted)
            elif r is park or r is core.SLEEP:
                if sched._park(slot) if r is park else sched._park_sleep(slot):
                    ended(tr, buf, slot, t1, _END_REWOKEN)  # woken while it ran
                    sched._add(slot)
                else:
                    ended(tr, buf, slot, t1, _END_PARK)
            else:
                sched._foreign(slot, r)
                ended(tr, buf, slot, t1, _END_FOREIGN)
                put_back(slot, False)
        if sched._inbox_head is not None:
            sched._drain_inbox()
    sched._tick.completed = completed
    return polled


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def _charged_end(tr, buf, slot, t0, charge):
    # A poll that finished the task: charge it (timed policies), then its records.
    t1 = tr.clock() & _MASK
    if charge is not None:
        us = (t1 - t0) & _MASK
        charge(slot, us if us < _HALF else 0)
    ended(tr, buf, slot, t1, _END_DONE)


@micropython.native  # (as bytecode, a frame set up per tick: ~1k instructions)
def tick(sched, n, _fifo=tick_fifo_traced, _general=tick_traced):
    """``sched.tick(n)`` with every poll recorded in ``sched._trace``. Not ISR-safe."""
    if sched._fifo is None:
        return _general(sched, n)
    return _fifo(sched, n)
