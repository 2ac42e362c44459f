"""The FIFO tick in viper over the slots' words: ``tick_fifo`` (fastpath.py's, in viper) and
``tick_lean`` (RunLoop.run()'s). Design note: docs/architecture.md, "The FIFO tick in viper"."""

import sys

import micropython
from micropython import const

from .. import core, port
from ..task.pool import TaskSlot, hold_local, release_local
from ..task.waitlist import wake_joiners
from ..task.words import addr_of
from . import owntick
from .endtick import end_lean, end_tick, ended_aside, poll_interrupted, poll_outcome
from .foreign import shield

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython

_FREE = const(0)  # core's states (task/words.py)
_QUEUED = const(1)
_RUNNING = const(2)
_ASLEEP = const(4)
_W_TPOS = const(4)  # the slot's timer entry's number (task/words.py)
_NOT_ARMED = const(0xFFFF)  # ...when it is not armed
_OK = const(2)  # task.slot's OK
_MASK = const(0x3FFFFFFF)  # counters wrap below 2**30 (core.wrap_count)
_K_OWNER = const(0)  # kit's items (see the module's end): the worker of bind(), or None
_K_END = const(1)
_K_GETATTR = const(2)
_K_NO_KIT = const(3)
_K_PARK = const(4)
_K_JOIN = const(5)
_K_HOLD = const(6)
_K_RELEASE = const(7)
_K_SHIELD = const(8)
_K_TYPE = const(9)
_K_BASE = const(10)
_K_WAKE_JOINERS = const(11)
_K_MODULES = const(12)
_K_LEN = const(13)
_K_STOP = const(14)
_K_NIL = const(15)
_K_ASIDE = const(16)
_K_SEND = const(17)
_K_VIP = const(18)
_K_LEAN = const(21)

_GILLESS = sys.platform == "rp2"  # MicroPython's ports built without a GIL (the design note)
if not _GILLESS:  # (rp2 loads the native tick only if a worker needs it: tick_fifo below)
    from . import fastpath  # noqa: F401 (loaded here where every scheduler may use it)


def _bind(sleep, kit):
    exc = None  # the exception a poll ended with: a cell (docs/architecture.md)
    @micropython.viper
    def tick_fifo(sched, n):
        """``sched.tick(n)`` for a ``FifoPolicy`` scheduler; the ``Tick``. Not ISR-safe."""
        nonlocal exc
        if sched.parallel and kit[_K_OWNER] is not sched:  # a worker, not bind()'s: the
            from . import fastpath  # (not loaded on rp2 until a worker needs it: owntick.py)
            return fastpath.tick_fifo(sched, n)  # native tick (the design note)
        nil = kit[_K_NIL]  # None, as an object (viper compares objects only with objects)
        fifo = sched._fifo
        head = fifo.head
        hn = 0 if head is nil else 1  # head and tail not None: ``if hn`` is no runtime call
        if hn == 0 and sched._inbox_head is nil:  # nothing to poll: no set-up at all
            return kit[_K_END](sched, 0, 0, False)
        ctx, tail = sched._ctx, fifo.tail
        outer_sched = ctx.sched  # a task of another scheduler may be driving this one
        outer_slot = ctx.slot  # (None whenever ctx.sched is: only ticks set them)
        left = n0 = 0 if int(n) < 0 else int(n)  # polls still allowed (counted down)
        joins = intr = completed = have = 0  # in-line joins queued; interrupted; park/join read
        stays = stale = fok = shielding = 0  # task stays; tail's run_next stale; ftop still is
        plain = -1  # 1 if _complete is StaticScheduler's, 2 if not parallel too (see ftop)
        park = join = ftop = nil
        sched._polling = True
        outer_held = 1 if outer_sched is not nil and kit[_K_HOLD](outer_sched) else 0  # (_start)
        ctx.sched = sched  # (before _local_ok: an interrupt level then holds this one's list)
        outer_tkit = ctx.tkit  # sleep_ms reads the timer's kit here (endtick.tick_kit)
        timer = sched.timer
        ctx.tkit = kit[_K_NO_KIT] if timer is nil or sched.level else \
            kit[_K_GETATTR](timer, "_kit", kit[_K_NO_KIT])
        sched._local_ok = lnext = sched._local_next  # (fastpath.py; set again at each drain)
        news = ptr32(sched._news)  # a word (scheduler.py): one machine load per poll
        news[0] = 1  # the first pass looks at both lists whatever came before the tick
        if sched._shielding:  # asyncio's awaitables raise ForeignAwaitable while tasks run
            sh = kit[_K_SHIELD]  # (on()'s first test in line: is asyncio imported at all?)
            if sh.target is not nil or kit[_K_LEN](kit[_K_MODULES]) != sh.modules:
                sh.on()
                shielding = 1
        if hn:
            tail.run_next = head  # a ring while the tick runs (fastpath.py's note)
        err = nil  # what ended the tick by raising: raised again once the ring is put back
        stop, gsend, vip = kit[_K_STOP], kit[_K_SEND], int(kit[_K_VIP])  # gsend: the type's send
        while True:
            if news[0]:  # a spawn or a wake since the last look
                if news[3]:  # a join's hand-offs (owntick.py): polls, completions, wakes, spawns
                    left, completed, joins = news[2], completed + news[5], joins + news[5]
                    sched._spawned = int(sched._spawned) + news[6]
                    news[3] = news[5] = news[6] = 0
                try:  # (_take_inbox is a call)
                    news[0] = fok = 0  # (before the lists are read: a wake after it sets it)
                    slot = sched._local_head  # linked through run_next: spliced in whole
                    if slot is nil:  # (no ``is not`` here: a second runtime call, a ``not``)
                        pass
                    else:
                        if hn:
                            tail.run_next = slot
                        else:
                            head = slot
                        hn = 1
                        tail = sched._local_tail
                        tail.run_next = head
                        sched._spawned = int(sched._spawned) + int(tail.id) - int(slot.id) + 1
                        sched._local_head = sched._local_tail = nil
                    if sched._inbox_head is nil:
                        pass
                    else:  # (spawns in line again: before the take, so a wake after it
                        sched._local_ok = lnext  # clears it again; lifecycle.py's spawn)
                        slot = sched._take_inbox()
                        while slot is not nil:  # (no ring sleeper: waking.py, "ABA")
                            nxt = slot.inbox_next
                            slot.inbox_next = nil
                            if hn:
                                tail.run_next = slot
                            else:
                                head = slot
                            hn = 1
                            slot.run_next = head
                            tail = slot
                            slot = nxt
                except BaseException as exc:  # (maybe after another: the first is raised)
                    if err is nil:
                        err = exc
                    left = 0
            if stays:  # the ring turns one step: the task polled becomes the tail
                if stale:
                    tail.run_next = head  # (past the tasks that left since it last turned)
                    stale = 0
                tail = head
                head = head.run_next
                stays = 0
            elif hn == 0:  # (a ring that just turned is never empty)
                break
            if left == 0:
                break
            slot = head
            left -= 1
            sw = ptr32(int(slot.wa)) if vip else ptr32(slot.wa)  # its words (task/words.py)
            sw[0] = _RUNNING
            ctx.slot = slot
            status = 0
            value = r = nil
            news[2] = left  # (a join may run a task it spawned in this poll: owntick.py)
            try:
                if sw[1]:
                    r = sched._throw_in(slot)
                elif sw[7]:  # not a generator: by its own send (task/words.py W_SEND)
                    r = slot.coro.send(nil)
                else:
                    r = gsend(slot.coro, nil)  # (no method look-up)
            except stop as exc:  # (a local: a builtin's name is two look-ups)
                status = _OK
                value = exc.value
            except BaseException as exc:
                status = -1
                value = exc
            if status == 0:
                if r is nil:
                    sw[0] = _QUEUED
                    stays = 1
                    continue
                if r is sleep:  # sched._park_sleep(slot), in line
                    if sw[_W_TPOS] >= _NOT_ARMED or sw[1]:  # its entry fired already (not
                        sw[0] = _QUEUED  # armed: task/words.py), or a throw waits
                        stays = 1
                        continue
                    sw[2] = 0  # (rewoken)
                    sw[0] = _ASLEEP  # wake() ignores it, the hand-off reads it
                else:
                    if have == 0:
                        park, join = kit[_K_PARK], kit[_K_JOIN]
                        have = 1
                    if r is join:  # a join of a task of this scheduler (core.JOIN): it ends
                        sw[2] = 0
                        sw[0] = _ASLEEP  # in a poll of this thread, which queues it (below)
                    else:
                        try:
                            if r is park:
                                if sched._park(slot):  # woken while it ran: stays runnable
                                    stays = 1
                            else:
                                sched._foreign(slot, r)  # (a throw queued: it stays runnable)
                                stays = 1
                        except BaseException as exc:
                            err = exc
                            left = 0
                            stays = 1  # (kept in the ring; the loop ends at its top)
                        if stays:
                            continue
            elif status < 0:  # (fastpath.py's except clauses, by the exception's class)
                status = int(poll_outcome(sched, value))
                if status == 0:  # KeyboardInterrupt, SystemExit: recorded, re-raised
                    intr = 1
            if slot is tail:  # it leaves the run queue (parked or ended), the ring's last
                head = tail = nil
                hn = 0
            else:  # (tail's run_next is written once for a run of tasks that leave: stale)
                head = slot.run_next
                stale = 1
            if intr:  # recorded out of the ring: its completion reuses run_next (pool.py)
                err = poll_interrupted(sched, slot, value)
                left = 0
            if status:
                try:  # (calls: _complete, cancel, remove, wake_joiners, _give_back)
                    completed += 1
                    if plain < 0:  # asked at the tick's first completion
                        plain = 0
                        if kit[_K_TYPE](sched)._complete is kit[_K_BASE][0]:
                            plain = 1 if sched.parallel else 2
                    inline = plain if value is nil or (status == _OK and not kit[19](
                        value, kit[20])) else 0  # (a returned error or slot: _complete wraps it)
                    if inline == 0:
                        sched._complete(slot, status, value)
                        fok = 0
                        continue
                    slot.handle._ref = value  # StaticScheduler._complete's common case, in line
                    if sw[_W_TPOS] < _NOT_ARMED:  # its timer armed, never awaited
                        slot.timer.cancel()
                    home = 1  # a pool slot of sched, unless dirty (TaskSlot.dirty)
                    if slot.dirty:  # a wait list, a wait phase, joiners, a throw to see to,
                        slot.dirty = False  # or a slot not of sched's pool
                        if slot.owner is not sched:  # (a caller-owned slot's: pool.py)
                            home = 0
                        if slot.name is nil and slot.waiting_on is nil and \
                                not slot.wait_phase and sw[1] == 0:
                            pass
                        else:  # a name, a wait list, a hand-driven wait, a cancel (endtick)
                            kit[_K_ASIDE](slot)
                        joiners = slot.joiners
                        joiner = joiners.head
                        if joiner is nil:
                            pass
                        else:
                            jw = ptr32(joiner.wa)
                            if value is nil and jw[0] == _ASLEEP and joiner.wait_next is nil \
                                    and sched._local_head is nil and sched._inbox_head is nil:
                                joiners.head = nil  # its one joiner, parked by core.JOIN:
                                joiners.tail = nil  # queued here, where the inbox's drain
                                joiners.count = 0  # would put it, with no section (fastpath.py;
                                joiner.waiting_on = nil  # phase: 0 for a ring's, owntick.py)
                                joiner.wait_phase = 0 if int(joiner.wait_phase) == 3 else _OK
                                jw[0] = _QUEUED  # (no wait_key: a join never reads it)
                                if hn:
                                    tail.run_next = joiner
                                else:
                                    head = joiner
                                hn = 1
                                joiner.run_next = head
                                tail = joiner
                                joins += 1
                            else:
                                kit[_K_WAKE_JOINERS](joiners, slot.id, _OK, value)
                    slot.coro = nil
                    sw[7] = 0  # (W_SEND: the next task is a generator unless _start says not)
                    sw[0] = _FREE  # first: a wake from now on is a no-op...
                    sw[2] = 0  # ...so none can leave rewoken set for the slot's next task
                    if home:  # on top of the free list (TaskPool._free_push); it keeps its
                        if fok == 0 or news[0]:  # sched (FREE: wakes are no-ops; spawn does
                            ftop = sched._free_head  # not write it: TaskSlot.sched); ftop is
                        slot.run_next = ftop  # the top this tick left unless a spawn (news),
                        sched._free_head = ftop = slot  # a call or another thread (a worker:
                        fok = plain - 1  # plain 1) may have moved it (docs/architecture.md)
                    else:
                        slot.sched = nil
                        fok = 0
                        if slot.pooled:  # a slot that moved here from another worker goes home
                            slot.owner._give_back(slot)
                except BaseException as exc:
                    err = exc
                    left = 0
        sched._local_ok = False
        news[2] = news[4] = 0  # (the joins' hand-offs were counted at the loop's top)
        slot = sched._local_head  # left by a completion that ended the tick (a stop)
        if slot is not nil:
            if hn:
                tail.run_next = slot
            else:
                head = slot
            hn = 1
            tail = sched._local_tail
            tail.run_next = head
            sched._spawned = int(sched._spawned) + int(tail.id) - int(slot.id) + 1
            sched._local_head = sched._local_tail = nil
        if stays:
            if stale:
                tail.run_next = head
            tail = head
            head = head.run_next
        if hn:
            tail.run_next = nil  # the ring ends at the tail again
        if shielding:
            kit[_K_SHIELD].off()
        fifo.head, fifo.tail = head, tail
        sched._polling = False
        ctx.slot, ctx.sched = outer_slot, outer_sched
        ctx.tkit = outer_tkit
        if outer_held:
            kit[_K_RELEASE](outer_sched)
        if joins:  # counted as wake() counts a task's wakes (under the section)
            state = sched._enter()
            sched._woken_int = int(sched._woken_int) + joins
            sched._exit(state)
        if err is not nil:
            raise err
        if sched._woken_ext or sched._woken_int or sched._spawned:  # counted under the section
            return kit[_K_END](sched, n0 - left, completed, head is not nil)
        if completed:  # end_tick in line (no wakes, no spawns): completed_total, wrapped
            c = int(sched.completed_total) + completed  # (< 2**31: a machine int on 32 bits)
            sched.completed_total = c if c <= _MASK else c - _MASK - 1
        timed = int(sched._woken_timer)  # only the loop's thread writes it
        if timed:
            sched._woken_timer = 0
        if kit[_K_LEAN]:  # tick_lean (endtick.end_lean): whether tasks remain
            return head is not nil or sched._inbox_head is not nil
        t = sched._tick
        t.polled = n0 - left
        t.completed = completed
        t.spawned = t.woken_internal = 0
        t.woken_external = t.woken = timed
        t.has_remaining = head is not nil or sched._inbox_head is not nil
        return t

    return tick_fifo


_KIT = (end_tick, getattr, core.NO_KIT, core.PARK, core.JOIN, hold_local, release_local, shield,
        type, owntick.base_complete, wake_joiners, sys.modules, len, StopIteration, None,
        ended_aside, port.CORO_TYPE.send,  # (port's, not .lifecycle's: 3 imports deeper)
        1 if type(addr_of(bytearray(4))) is int else 0,  # (18: the words' addresses are ints)
        isinstance, (BaseException, TaskSlot))  # (19, 20: completed_ref's test of a value)
tick_fifo = owntick.tick_own if _GILLESS else _bind(core.SLEEP, (None,) + _KIT + (None,))
tick_lean = None if _GILLESS else _bind(core.SLEEP, (None, end_lean) + _KIT[1:] + (True,))


def bind(sched):
    """``sched``'s own ``tick_fifo``: a worker's, every scheduler's on rp2. Allocates."""
    return _bind(core.SLEEP, (sched,) + _KIT + (None,))
