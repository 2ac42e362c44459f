"""The traced FIFO tick: ``fastpath.tick_fifo`` with every poll recorded in the trace ring.

Design note. The task switch is what tracing must barely slow down, so the loop is a viper
function that writes the ring with machine stores: a poll that yields and recorded nothing
meanwhile costs one clock read and eight word stores (its POLL_BEGIN/POLL_END pair), with no
call into the ring. Within a tick a poll begins when the previous one ended (the scheduler's
few hundred ns between them go to the next poll, below the µs resolution).

Viper cannot bind an exception (``except E as e`` stores None into an object local when the
handler ends), so a poll that raises (a task completing, failing, cancelled) leaves the viper
loop: its ``finally`` puts the run queue back into the policy and the polls counted so far
into the ring's header, and the native shell around it (``tick_fifo_traced``) finishes the
task and enters the loop again. A header word says whether the exception came out of a poll
(the ``finally`` then takes that task out of the run queue, a ring while the loop runs, as in
``fastpath.tick_fifo``). Behaviour is the untraced tick's (``host_tests/test_trace_ticks.py``).
"""

import micropython
from micropython import const

from .. import core, port
from ..core import wrap_count
from ..errors import Cancelled
from ..task.pool import hold_local, release_local
from ..trace.writers import park_what, poll_records, put
from .endtick import end_tick
from .foreign import shield as _shield

_MASK = const(0x3FFFFFFF)
_POS = const(0)  # the ring's header words (trace/ring.py)
_COUNT = const(1)
_DROPPED = const(2)
_SIZE = const(3)
_BEGIN = const(4)
_SIDE = const(5)
_START = const(6)
_IN_POLL = const(8)  # 1 while a task is polled: an exception out of the loop is the task's
_POLLED = const(9)  # the tick's polls so far, when the loop is left by an exception
_HEADER = const(10)
_W_ID = const(3)  # task.words.W_ID
_POLL_BEGIN = const(2)  # trace.kinds
_POLL_END = const(3)
_PARK = const(4)
_END_YIELD = const(0)  # trace.kinds.END_*
_END_PARK = const(1)
_END_REWOKEN = const(2)
_END_DONE = const(3)
_END_FOREIGN = const(4)
_RUNNING = const(2)  # task.slot's states and outcomes, consts (an imported name is a global
_QUEUED = const(1)  # look-up)
_OK = const(2)
_FAILED = const(3)
_CANCELLED = const(4)

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def ended(tr, buf, slot, te, end, _records=poll_records, _put=put, _what=park_what):
    """A poll that did not simply yield: its pair, the end patched, PARK after a park."""
    tid = slot.id
    _records(buf, te, tid)
    i = buf[_POS] - 1
    if i < 0:
        i += tr.size
    buf[_HEADER + 4 * i + 3] = end
    if end == _END_PARK:
        _put(buf, te, _PARK, tid, _what(slot))
        buf[_BEGIN] = buf[_POS]


@micropython.viper  # per park and per tick: native, it set up a frame (~700 instructions)
def restart(tr, buf):
    """After a poll's records: move the side ring's, and start the next poll here, now."""
    p = ptr32(buf)
    if p[_SIDE]:
        tr.drain()
    p[_BEGIN] = p[_POS]
    p[_START] = int(tr.clock()) & _MASK


@micropython.native
def spliced(sched, tail, head, inbox):
    """Into the ring between ``tail`` and ``head``, where ``fastpath.tick_fifo`` puts them: the
    tick's own list (what the last poll spawned: ``_start``), then, if ``inbox``, the wake
    inbox (at the loop's end it stays for the next tick, as in fastpath.py). Returns the new
    tail (whose ``run_next`` is the head; None if the ring and both lists were empty). In line,
    the viper try body grew past the classic ESP32's MOVI reach (test_tools_xtensa_reach)."""
    slot = sched._local_head
    if slot is not None:
        if tail is None:
            head = slot
        else:
            tail.run_next = slot
        tail = sched._local_tail
        tail.run_next = head
        sched._spawned += tail.id - slot.id + 1  # consecutive ids (fastpath.py's design note)
        sched._local_head = None
        sched._local_tail = None
    if not inbox or sched._inbox_head is None:
        return tail
    slot = sched._take_inbox()
    while slot is not None:  # (no ring sleeper: waking.py, "ABA")
        nxt = slot.inbox_next
        slot.inbox_next = None
        if tail is None:
            head = slot
        else:
            tail.run_next = slot
        slot.run_next = head
        tail = slot
        slot = nxt
    return tail


@micropython.viper
def _polls(sched, tr, buf, n: int, polled: int, nil, gsend, park, sleep, restart, ended,
           spliced) -> int:
    # The tick's loop from ``polled`` polls on; returns the polls made when the tick ends.
    # The arguments from ``nil`` on (None, the generator type's own send: no ``coro.send``
    # look-up per poll; core's PARK and SLEEP; this module's three functions) come from the
    # native shell, where they cost nothing (read here, each was a global look-up that hashes
    # the name, 150-250 instructions; viper compares objects with an object None).
    p = ptr32(buf)
    p[_IN_POLL] = 0  # (an exception before the first poll is not a task's)
    size = p[_SIZE]
    fifo = sched._fifo
    ctx = sched._ctx
    clock = tr.clock
    head = fifo.head
    tail = fifo.tail
    if tail is not nil:
        tail.run_next = head  # a ring while the loop runs, as in fastpath.tick_fifo
    stays = 0  # the task just polled stays runnable: the ring turns after what it woke
    news = ptr32(sched._news)  # the scheduler's news word (wordtick.py): a load per poll
    news[0] = 1  # the first pass looks at the inbox whatever came before
    try:
        while True:
            if news[0]:  # a wake or a spawn since the last look (every inbox push sets it)
                news[0] = 0  # (before the lists are read: a wake after it sets it again)
                slot = sched._local_head  # what the last poll spawned, then what was woken
                if slot is nil:
                    slot = sched._inbox_head
                if slot is nil:  # (no ``is not``: two runtime calls)
                    pass
                else:  # between the tail and the head (fastpath.py), by a call: see spliced
                    tail = spliced(sched, tail, head, 1)
                    head = tail.run_next
            if stays:
                tail = head
                head = head.run_next
                stays = 0
            elif head is nil:
                break
            if polled >= n:
                break
            slot = head
            polled += 1
            sw = ptr32(slot.wa)  # its words (task/words.py): an int cast, no buffer call
            sw[0] = _RUNNING
            ctx.slot = slot
            p[_IN_POLL] = 1
            if sw[1]:
                r = sched._throw_in(slot)
            elif sw[7]:  # not a generator: by its own send (task/words.py W_SEND)
                r = slot.coro.send(nil)
            else:
                r = gsend(slot.coro, nil)
            p[_IN_POLL] = 0
            if r is nil:
                sw[0] = _QUEUED
                te = int(clock()) & _MASK
                pos = p[_POS]
                if pos == p[_BEGIN]:  # the poll recorded nothing: its pair, inline
                    tid = sw[_W_ID]  # the task's id (Trace.spawned wrote it: task/words.py)
                    j = _HEADER + (pos << 2)
                    p[j] = p[_START]
                    p[j + 1] = _POLL_BEGIN
                    p[j + 2] = tid
                    p[j + 3] = 0
                    pos += 2
                    if pos >= size:  # the ring wraps after the pair or between its two
                        pos -= size
                    if pos == 1:  # (records: then the end record is the ring's first)
                        j = _HEADER
                    else:
                        j += 4
                    p[j] = te
                    p[j + 1] = _POLL_END
                    p[j + 2] = tid
                    p[j + 3] = _END_YIELD
                    p[_POS] = pos
                    p[_BEGIN] = pos
                    p[_START] = te
                    c = p[_COUNT]
                    if c == size:  # full: the pair overwrote two records
                        c = p[_DROPPED] + 2
                        if c > _MASK:
                            c = c - _MASK - 1
                        p[_DROPPED] = c
                    else:
                        c += 2
                        if c > size:  # (by one)
                            c = p[_DROPPED] + 1
                            if c > _MASK:
                                c = 0
                            p[_DROPPED] = c
                            c = size
                        p[_COUNT] = c
                    if p[_SIDE]:
                        restart(tr, buf)  # wakes from elsewhere: move them
                else:
                    poll_records(buf, te, slot.id)  # around what the poll recorded
                    restart(tr, buf)
            else:
                te1 = clock()
                if r is park or r is sleep:
                    if not (sched._park(slot) if r is park else sched._park_sleep(slot)):
                        nxt = slot.run_next  # it waits: out of the ring
                        if nxt is slot:
                            head = nil
                            tail = nil
                        else:
                            tail.run_next = nxt
                            head = nxt
                        ended(tr, buf, slot, te1, _END_PARK)
                        restart(tr, buf)
                        continue
                    ended(tr, buf, slot, te1, _END_REWOKEN)
                else:
                    sched._foreign(slot, r)
                    ended(tr, buf, slot, te1, _END_FOREIGN)
                restart(tr, buf)
            stays = 1
    finally:
        if sched._local_head is not nil:  # what the poll that ended the loop spawned
            tail = spliced(sched, tail, head, 0)
            head = tail.run_next
        if p[_IN_POLL]:  # the poll raised (the task ends in the shell): out of the ring
            nxt = head.run_next
            if nxt is head:
                head = nil
                tail = nil
            else:
                tail.run_next = nxt
                head = nxt
        elif stays:
            tail = head
            head = head.run_next
        if tail is not nil:
            tail.run_next = nil  # the ring ends at the tail again
        fifo.head = head
        fifo.tail = tail
        p[_POLLED] = polled
    return polled


def _local_to_fifo(sched):
    # The tick's own list (what a completion in the shell spawned, a rare case) onto the
    # policy's queue, after the tail: the tick ends.
    slot = sched._local_head
    tail = sched._local_tail
    sched._spawned += tail.id - slot.id + 1
    sched._local_head = None
    sched._local_tail = None
    fifo = sched._fifo
    tail.run_next = None
    if fifo.tail is None:
        fifo.head = slot
    else:
        fifo.tail.run_next = slot
    fifo.tail = tail


@micropython.native
def tick_fifo_traced(sched, n, _polls=_polls, _restart=restart, _on=_shield.on,
                     _off=_shield.off, _end=end_tick, _park=core.PARK, _sleep=core.SLEEP,
                     _ended=ended, _spliced=spliced, _no_kit=core.NO_KIT, _stop=StopIteration,
                     _cancelled=Cancelled, _gsend=port.CORO_TYPE.send):
    """``fastpath.tick_fifo`` with every poll recorded. Not ISR-safe."""
    # (the module's names as default-argument locals, as in fastpath.tick_fifo: in native code
    # a global read is a look-up that hashes the name, 150-250 instructions each)
    tr = sched._trace
    buf = tr.buf
    ctx = sched._ctx
    outer_slot = ctx.slot
    outer_sched = ctx.sched
    polled = 0
    completed = 0
    sched._polling = True
    outer_held = False
    if outer_sched is not None:  # a task of outer_sched drives this tick (see hold_local)
        outer_held = hold_local(outer_sched)
    ctx.sched = sched
    outer_tkit = ctx.tkit  # (sleep_ms: see fastpath.tick_fifo)
    timer = sched.timer  # endtick.tick_kit(sched), in line (a bytecode call per tick)
    ctx.tkit = _no_kit if timer is None or sched.level else getattr(timer, "_kit", _no_kit)
    if sched._shielding:  # (False on an executor's worker: the executor raised it once)
        _on()  # asyncio's awaitables raise ForeignAwaitable while tasks run
    _restart(tr, buf)
    news = sched._news  # word 1: spawns go on the tick's own list (lifecycle.py's _start)
    news[1] = 1 if sched._local_next else 0  # (not parallel, closed or ids wrapped)
    try:
        while True:
            try:
                polled = _polls(sched, tr, buf, n, polled, None, _gsend, _park, _sleep,
                                _restart, _ended, _spliced)
                break
            except _stop as e:  # (locals: a global or builtin read is a look-up)
                if not buf[_IN_POLL]:
                    raise e
                slot = ctx.slot
                _ended(tr, buf, slot, tr.clock(), _END_DONE)
                sched._complete(slot, _OK, e.value)
            except _cancelled as e:
                if not buf[_IN_POLL]:
                    raise e
                slot = ctx.slot
                _ended(tr, buf, slot, tr.clock(), _END_DONE)
                sched._complete(slot, _CANCELLED, e)
            except Exception as e:  # a failing task never takes the scheduler down
                if not buf[_IN_POLL]:
                    raise e
                slot = ctx.slot
                _ended(tr, buf, slot, tr.clock(), _END_DONE)
                sched._complete(slot, _FAILED, e)
                sched.failed_total = wrap_count(sched.failed_total, 1)
            except BaseException as e:  # KeyboardInterrupt, SystemExit: record, re-raise
                if buf[_IN_POLL]:
                    slot = ctx.slot
                    _ended(tr, buf, slot, tr.clock(), _END_DONE)
                    sched._interrupted(slot, e)
                raise e  # (a bare raise is not supported in native code)
            completed += 1
            polled = buf[_POLLED]
            _restart(tr, buf)
    finally:
        news[1] = 0
        if sched._local_head is not None:  # spawned since the loop's last look: queued
            _local_to_fifo(sched)
        if sched._shielding:
            _off()
        sched._polling = False
        ctx.slot = outer_slot
        ctx.sched = outer_sched
        ctx.tkit = outer_tkit
        if outer_held:
            release_local(outer_sched)
    return _end(sched, polled, completed, sched._fifo.head is not None)  # (_end_tick)
