"""The traced ticks: ``StaticScheduler.tick`` runs one of these while a ``Trace`` is attached
(``trace/ring.py``).

Design note. Tracing must cost nothing when it is off, so the scheduler tests one attribute
per ``tick()`` (not per poll) and, with a trace attached, runs these copies of its two ticks
(``fastpath.tick_fifo`` for FIFO, ``StaticScheduler.tick`` otherwise). A poll that yields
costs one clock read and one viper call on top (``poll_records``): within a tick a poll
begins when the previous one ended (the scheduler's few hundred ns between them go to the
next poll, below the µs resolution), and the POLL_BEGIN/POLL_END pair is written when the
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
from ..task.slot import CANCELLED, FAILED, OK, QUEUED, RUNNING
from ..trace.ring import park_what, poll_records, put
from .foreign import shield as _shield

_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)
_POS = const(0)  # the ring's header words (trace/ring.py)
_BEGIN = const(4)
_SIDE = const(5)
_START = const(6)
_HEADER = const(8)
_PARK = const(4)  # trace.kinds.PARK
_END_YIELD = const(0)  # trace.kinds.END_*
_END_PARK = const(1)
_END_REWOKEN = const(2)
_END_DONE = const(3)
_END_FOREIGN = const(4)


def _ended(tr, buf, slot, te, end):
    # A poll that did not simply yield: its pair, the end patched, PARK after a park.
    tid = slot.id
    poll_records(buf, te, tid)
    i = buf[_POS] - 1
    if i < 0:
        i += tr.size
    buf[_HEADER + 4 * i + 3] = end
    if end == _END_PARK:
        put(buf, te, _PARK, tid, park_what(slot))
        buf[_BEGIN] = buf[_POS]


def tick(sched, n):
    """``sched.tick(n)`` with every poll recorded in ``sched._trace``. Not ISR-safe."""
    if sched._fifo is not None:
        return tick_fifo_traced(sched, n)
    return tick_traced(sched, n)


@micropython.native
def tick_fifo_traced(sched, n):
    """``fastpath.tick_fifo`` with every poll recorded. Not ISR-safe."""
    tr = sched._trace
    buf = tr.buf
    fifo = sched._fifo
    ctx = sched._ctx
    park = core.PARK
    clock = tr.clock
    records = poll_records
    head = fifo.head
    tail = fifo.tail
    outer_slot = ctx.slot
    outer_sched = ctx.sched
    polled = 0
    completed = 0
    sched._polling = True
    ctx.sched = sched
    _shield.on()  # asyncio's awaitables raise ForeignAwaitable while tasks run
    if buf[_SIDE]:
        tr.drain()
    buf[_BEGIN] = buf[_POS]
    buf[_START] = clock() & _MASK  # when the next poll begins
    try:
        while True:
            if sched._inbox_head is not None:
                slot = sched._take_inbox()
                while slot is not None:
                    nxt = slot.inbox_next
                    slot.inbox_next = None
                    slot.run_next = None
                    if tail is None:
                        head = slot
                    else:
                        tail.run_next = slot
                    tail = slot
                    slot = nxt
            if polled >= n:
                break
            slot = head
            if slot is None:
                break
            head = slot.run_next
            if head is None:
                tail = None
            polled += 1
            slot.state = RUNNING
            ctx.slot = slot
            try:
                if slot.throw_exc is None:
                    r = slot.coro.send(None)
                else:
                    r = sched._throw_in(slot)
            except StopIteration as e:
                _ended(tr, buf, slot, clock(), _END_DONE)
                sched._complete(slot, OK, e.value)
                completed += 1
                _restart(tr, buf)
                continue
            except Cancelled as e:
                _ended(tr, buf, slot, clock(), _END_DONE)
                sched._complete(slot, CANCELLED, e)
                completed += 1
                _restart(tr, buf)
                continue
            except Exception as e:  # a failing task never takes the scheduler down
                _ended(tr, buf, slot, clock(), _END_DONE)
                sched._complete(slot, FAILED, e)
                sched.failed_total = wrap_count(sched.failed_total, 1)
                completed += 1
                _restart(tr, buf)
                continue
            except BaseException as e:  # KeyboardInterrupt, SystemExit: record, re-raise
                _ended(tr, buf, slot, clock(), _END_DONE)
                sched._interrupted(slot, e)
                raise e  # (a bare raise is not supported in native code)
            if r is None:
                slot.state = QUEUED
                if records(buf, clock(), slot.id):  # (it masks the ticks)
                    _restart(tr, buf)  # wakes the poll made (or interrupts): move them
            else:
                te = clock()
                if r is park:
                    if not sched._park(slot):
                        _ended(tr, buf, slot, te, _END_PARK)
                        _restart(tr, buf)
                        continue
                    _ended(tr, buf, slot, te, _END_REWOKEN)
                else:
                    sched._foreign(slot, r)
                    _ended(tr, buf, slot, te, _END_FOREIGN)
                _restart(tr, buf)
            if sched._inbox_head is not None:  # what the poll woke goes first (fastpath.py)
                woken = sched._take_inbox()
                while woken is not None:
                    nxt = woken.inbox_next
                    woken.inbox_next = None
                    woken.run_next = None
                    if tail is None:
                        head = woken
                    else:
                        tail.run_next = woken
                    tail = woken
                    woken = nxt
            slot.run_next = None
            if tail is None:
                head = slot
            else:
                tail.run_next = slot
            tail = slot
    finally:
        _shield.off()
        fifo.head = head
        fifo.tail = tail
        sched._polling = False
        ctx.slot = outer_slot
        ctx.sched = outer_sched
    return sched._end_tick(polled, completed)


def _restart(tr, buf):
    # After a poll's records: move the side ring's, and start the next poll's here, now.
    if buf[_SIDE]:
        tr.drain()
    buf[_BEGIN] = buf[_POS]
    buf[_START] = tr.clock() & _MASK


def tick_traced(sched, n):
    """``StaticScheduler.tick``'s general path with every poll recorded; a timed policy is
    charged with the same clock readings the records carry. Not ISR-safe."""
    tr = sched._trace
    buf = tr.buf
    ctx = sched._ctx
    outer_slot = ctx.slot
    outer_sched = ctx.sched
    outer_start = ctx.poll_start
    pick = sched._pick
    put_back = sched._put_back
    charge = sched._charge
    clock = tr.clock
    park = core.PARK
    polled = 0
    completed = 0
    sched._polling = True
    ctx.sched = sched
    _shield.on()
    try:
        if sched._inbox_head is not None:
            sched._drain_inbox()
        while polled < n:
            slot = pick()
            if slot is None:
                break
            polled += 1
            slot.state = RUNNING
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
                raise
            ctx.slot = None
            if slot.state == RUNNING:
                t1 = clock() & _MASK
                preempted = False
                if charge is not None:
                    us = (t1 - t0) & _MASK
                    preempted = charge(slot, us if us < _HALF else 0)
                if r is None:
                    slot.state = QUEUED
                    _ended(tr, buf, slot, t1, _END_YIELD)
                    if sched._inbox_head is not None:
                        sched._drain_inbox()  # what it woke goes first (fastpath.py)
                    put_back(slot, preempted)
                elif r is park:
                    if sched._park(slot):  # woken while it ran: it stays runnable
                        _ended(tr, buf, slot, t1, _END_REWOKEN)
                        sched._add(slot)
                    else:
                        _ended(tr, buf, slot, t1, _END_PARK)
                else:
                    sched._foreign(slot, r)
                    _ended(tr, buf, slot, t1, _END_FOREIGN)
                    put_back(slot, False)
            if sched._inbox_head is not None:
                sched._drain_inbox()
    finally:
        _shield.off()
        sched._polling = False
        ctx.slot = outer_slot
        ctx.sched = outer_sched
        ctx.poll_start = outer_start
    return sched._end_tick(polled, completed)


def _charged_end(tr, buf, slot, t0, charge):
    # A poll that finished the task: charge it (timed policies), then its records.
    t1 = tr.clock() & _MASK
    if charge is not None:
        us = (t1 - t0) & _MASK
        charge(slot, us if us < _HALF else 0)
    _ended(tr, buf, slot, t1, _END_DONE)
