"""The scheduler's FIFO fast path: ``tick()`` when the policy is exactly ``FifoPolicy``.

Design note: this is the loop every task switch goes through, so the run queue lives in two locals
for the whole tick (the policy object gets them back at the end) and nothing is called per poll but
the task. While the tick runs the queue is a ring (the tail links to the head) and the task being
polled stays in it, as its head: a task that yields makes the ring turn one step (two local
assignments and one read, no stores into slots); one that parks or ends is unlinked. While the tick
runs nothing else touches the queue: wakes and spawns land in the scheduler's inbox (or the tick's
own spawn list), drained after each poll between the tail and the head, so the order is the general
path's (``StaticScheduler.tick``): tasks that a poll woke or spawned are queued before the polled
task goes back (asyncio's order), so a task that wakes others and yields runs after them. One read
per poll sees that neither list has anything: ``sched._news[0]`` (a word), set by every writer of
either list after linking and by the tick's set-up, cleared by the tick before it reads them. The
rare cases (throwing into a cancelled task, parking, a foreign awaitable, completing with a value
or an error) are calls to the scheduler; a task that returns None is completed here, in line,
unless the scheduler's class overrides ``_complete``. A task's spawns come as a piece of run queue
spliced in whole, counted by its ids (docs/architecture.md, "The FIFO tick in viper").
In-line completion and join: docs/architecture.md, "The life of a tick"; ctx.tkit: endtick.py.
On rp2 (no GIL) every scheduler ticks with a viper closure of its own (owntick.py's ``tick_own``),
and this module is not loaded there (owntick.py says why).
Shape (the classic ESP32): no try around the loop (~3 KB of xtensawin code): MicroPython's Xtensa
assembler loads a handler's address with a 12-bit MOVI that wraps past 2,047 B (docs/boards.md,
"ESP32 (Xtensa), session 14"). Each call that can raise sits in a short try whose handler keeps
the exception and sets ``left = 0``: the loop ends at its next ``if not left`` and the closing
code (what a finally did) raises it. No break in a handler (it would load the loop's end, far
too) and no test on the way (``err is None`` is two runtime calls in native code). Between the
tries only fields and small ints are read and written, which raise nothing. No try body may
pass ~1.9 KB (test_tools_xtensa_reach.py). Native code: about 25 % faster here than bytecode.
"""

import sys

import micropython
from micropython import const

from .. import core
from ..core import wrap_count
from ..errors import Cancelled
from ..task.pool import hold_local as _hold
from ..task.pool import release_local as _release
from ..task.slot import CANCELLED, FAILED
from ..task.waitlist import wake_joiners
from .endtick import end_tick
from .foreign import shield as _shield
from .owntick import base_complete  # (StaticScheduler._complete: scheduler.py sets it)

_ASLEEP = const(4)  # core.ASLEEP, a constant here (an imported name is a lookup)
_OK = const(2)  # task.slot's OK and core's FREE: constants, not global lookups, in native code
_FREE = const(0)
_QUEUED = const(1)  # core.QUEUED and core.RUNNING, written every poll
_RUNNING = const(2)
_MODULES = sys.modules


@micropython.native
def tick_fifo(sched, n, _sleep=core.SLEEP, _park=core.PARK, _type=type, _stop=StopIteration,
              _cancelled=Cancelled, _sh=_shield, _on=_shield.on, _off=_shield.off, _len=len,
              _modules=_MODULES, _end=end_tick, _getattr=getattr, _join=core.JOIN,
              _no_kit=core.NO_KIT):
    """``sched.tick(n)`` for a ``FifoPolicy`` scheduler; returns the ``Tick``. Not ISR-safe."""
    fifo = sched._fifo
    head = fifo.head
    if head is None and sched._inbox_head is None:  # nothing to poll: no set-up at all
        return _end(sched, 0, 0, False)  # (_local_head is None outside a tick)
    ctx = sched._ctx
    tail = fifo.tail
    outer_sched = ctx.sched  # a task of another scheduler may be driving this one
    outer_slot = None  # (ctx.slot is None whenever ctx.sched is: only ticks set them)
    left = n if n > 0 else 0  # polls still allowed (counted down: one int operation a poll)
    completed = 0
    joins = intr = 0  # joiners the in-line completion queued itself (to _woken_int); Ctrl-C
    stays = False  # the task just polled stays runnable: it goes behind what it woke
    plain = None  # True if _complete is StaticScheduler's (asked at the first completion)
    sched._polling = True
    outer_held = False
    if outer_sched is None:
        pass
    else:  # a task of outer_sched drives this tick: its spawns go by _start (hold_local)
        outer_slot = ctx.slot
        outer_held = _hold(outer_sched)
    ctx.sched = sched  # (before _local_ok: an interrupt level then holds this one's list)
    outer_tkit = ctx.tkit  # sleep_ms reads the timer's kit here, not through slot.sched
    timer = sched.timer
    if timer is None or sched.level:
        ctx.tkit = _no_kit  # (sleep_ms's slow way finds the timer, or the level, by the slot)
    else:  # (a stand-in with a Timer's turn() but no _kit: NO_KIT, sleep_ms's slow way)
        ctx.tkit = _getattr(timer, "_kit", _no_kit)
    # Spawns use the tick's own list (spawn's in-line case) unless on a worker, closed or ids
    # wrapped: ``_local_next`` (one read, not three). No ``not``/``is not``: runtime calls here.
    sched._local_ok = lnext = sched._local_next  # not parallel, ids_wrapped or closed
    news = sched._news  # (word 0 of an array('i'): task/words.py new_flag)
    news[0] = 1  # the first pass looks at both lists whatever came before the tick
    shielding = sched._shielding
    if shielding:  # asyncio's awaitables raise ForeignAwaitable while tasks run
        if _sh.target is None and _len(_modules) == _sh.modules:
            shielding = False  # on()'s first test, in line: asyncio is not even imported
        else:
            _on()
    if tail is None:
        pass
    else:
        tail.run_next = head  # a ring while the tick runs (see the module's design note)
    err = None  # what ended the tick by raising: raised again once the ring is put back
    while True:
        if news[0]:  # a spawn or a wake since the last look (one read: see above)
            try:  # (_take_inbox is a call)
                news[0] = 0  # (before the lists are read: a wake after it sets it)
                # What the last poll (or completion) spawned, then woke, goes between the
                # tail and the head: ahead of the task just polled, which is still the head
                # (asyncio's order); spawns that followed a wake went through the inbox.
                slot = sched._local_head  # linked through run_next: spliced in whole
                if slot is not None:
                    if tail is None:
                        head = slot
                    else:
                        tail.run_next = slot
                    tail = sched._local_tail
                    tail.run_next = head
                    sched._spawned += tail.id - slot.id + 1  # consecutive ids (design note)
                    sched._local_head = None
                    sched._local_tail = None
                if sched._inbox_head is not None:
                    sched._local_ok = lnext  # (before the take: a wake after it clears it)
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
            except BaseException as e:  # (maybe after another: the first one is raised)
                if err is None:
                    err = e
                left = 0  # (the loop ends below: see the shape note)
        if stays:  # the ring turns one step: the task polled becomes the tail
            tail = head
            head = head.run_next
            stays = False
        elif head is None:  # (a ring that just turned is never empty)
            break
        if not left:
            break
        slot = head
        left -= 1
        w = slot.w  # its words (task/words.py): one load, then subscripts
        w[0] = _RUNNING
        ctx.slot = slot
        try:
            if slot.throw_exc is None:
                r = slot.coro.send(None)
            else:
                r = sched._throw_in(slot)
        except _stop as e:  # (a default-argument local: a global is two lookups)
            status = _OK
            value = e.value
        except _cancelled as e:  # (a local: see docs/repl.md, Ctrl-C on the unix port)
            status = CANCELLED
            value = e
        except Exception as e:  # a failing task never takes the scheduler down
            status = FAILED
            value = e
            sched.failed_total = wrap_count(sched.failed_total, 1)
        except BaseException as e:  # KeyboardInterrupt, SystemExit: record, re-raise
            err = e  # recorded once unlinked as a task that parked; the loop ends (left = 0)
            value = e
            status = 0
            left = 0
            intr = 1
        else:
            if r is None:
                w[0] = _QUEUED
                stays = True
                continue
            if r is _sleep:  # sched._park_sleep(slot), in line
                if w[4] >= 0xFFFF:  # (slot.timer.pos < 0: task/words.py W_TPOS)
                    w[0] = _QUEUED  # its entry fired already
                    stays = True
                    continue
                if slot.throw_exc is None:  # (no `is not`: two runtime calls)
                    pass
                else:
                    w[0] = _QUEUED  # a throw waits
                    stays = True
                    continue
                w[2] = 0  # (rewoken: task/words.py)
                w[0] = _ASLEEP  # wake() ignores it, the hand-off reads it
                status = 0
            elif r is _join:  # a join of a task of this scheduler (core.JOIN): it ends in
                w[2] = 0  # a poll of this tick's thread, which queues it (below);
                w[0] = _ASLEEP
                status = 0
            else:
                try:
                    if r is _park:
                        stays = sched._park(slot)  # woken while it ran: it stays runnable
                    else:
                        sched._foreign(slot, r)  # (a throw queued: it stays runnable)
                        stays = True
                except BaseException as e:
                    err = e
                    left = 0
                    stays = True  # (kept in the ring; the loop ends at its top)
                if stays:
                    continue
                status = 0
        # The task leaves the run queue (it parked or ended): out of the ring, first.
        nxt = slot.run_next
        if nxt is slot:
            head = None
            tail = None
        else:
            tail.run_next = nxt
            head = nxt
        if intr:  # recorded out of the ring: its completion reuses run_next (task/pool.py)
            try:
                sched._interrupted(slot, value)
            except BaseException as e2:
                err = e2
        if status:
            try:  # (calls: _complete, cancel, remove, wake_joiners, _give_back)
                completed += 1
                if value is None:  # (no `is not`/`not`: each is a runtime call more here)
                    if plain:  # (one test per completion once known: plain is True/False)
                        pass
                    elif plain is None and _type(sched)._complete is base_complete[0]:
                        plain = True  # asked at the tick's first completion
                    else:
                        plain = False
                        sched._complete(slot, status, value)
                        continue
                else:
                    sched._complete(slot, status, value)
                    continue
                # StaticScheduler._complete of a task that returned None, in line: no call.
                slot.handle._ref = None  # (detach() gives a live task's slot a handle of its own)
                if w[4] < 0xFFFF:  # its timer armed, never awaited (task/words.py W_TPOS)
                    slot.timer.cancel()
                home = True  # a pool slot of sched, unless dirty (TaskSlot.dirty)
                if slot.dirty:  # a wait list, a wait phase, joiners, a throw to see to, or
                    slot.dirty = False  # a slot not of sched's pool: the checks only then
                    home = slot.owner is sched  # (a caller-owned slot's never is: pool.py)
                    if slot.name is not None:  # a named task (_start set dirty): a free
                        slot.name = None  # slot's name is None (spawn does not write it)
                        if slot.handle_out:
                            pass
                        else:  # a handle the slot reuses is nameless too (detached.py)
                            slot.handle.name = None
                    waiting_on = slot.waiting_on
                    if waiting_on is None:
                        pass
                    else:
                        waiting_on.remove(slot)
                    if slot.wait_phase:  # ended inside a wait it drove by hand: clear it all
                        slot.wait_phase = 0  # (phase 0 implies wait_status 0: every wait that
                        slot.wait_key = None  # ends resets both, see the module's design note)
                        slot.wait_status = 0
                        slot.wait_value = None
                    joiners = slot.joiners
                    joiner = joiners.head
                    if joiner is None:
                        pass
                    elif joiner.w[0] == _ASLEEP and joiner.wait_next is None and \
                            sched._local_head is None and sched._inbox_head is None:
                        # Its one joiner parked by core.JOIN (a task of this scheduler): queued
                        # here, where the inbox's drain would put it (nothing else was woken or
                        # spawned), with no section (wake_joiners and a wake, in line).
                        joiners.head = None
                        joiners.tail = None
                        joiners.count = 0
                        joiner.waiting_on = None
                        # ended: a join ring's await (phase 3) finds its ring empty
                        # (sched/owntick.py), JoinHandle.__next__ reads 2
                        joiner.wait_phase = 0 if joiner.wait_phase == 3 else _OK
                        joiner.w[0] = _QUEUED  # (no wait_key: a join never reads it)
                        if tail is None:
                            head = joiner
                        else:
                            tail.run_next = joiner
                        joiner.run_next = head
                        tail = joiner
                        joins += 1
                    else:
                        wake_joiners(joiners, slot.id, _OK, None)
                    if slot.throw_exc is None:
                        pass
                    else:  # cancelled in its last poll
                        slot.throw_exc = None
                        w[1] = 0
                        slot.cancel_requested = False
                slot.coro = None
                w[0] = _FREE  # first: a wake from now on is a no-op...
                w[2] = 0  # ...so none can leave rewoken set for the slot's next task
                if home:  # on top of the free list (TaskPool._free_push); it keeps its
                    slot.run_next = sched._free_head  # sched (FREE: wakes are no-ops;
                    sched._free_head = slot  # spawn does not write it: TaskSlot.sched)
                else:
                    slot.sched = None
                    if slot.pooled:  # a slot that moved here from another worker goes home
                        slot.owner._give_back(slot)
            except BaseException as e:
                err = e
                left = 0
    sched._local_ok = False
    slot = sched._local_head  # left by a completion that ended the tick (a stop)
    if slot is None:
        pass
    else:
        if tail is None:
            head = slot
        else:
            tail.run_next = slot
        tail = sched._local_tail
        tail.run_next = head
        sched._spawned += tail.id - slot.id + 1
        sched._local_head = None
        sched._local_tail = None
    if stays:
        tail = head
        head = head.run_next
    if tail is None:
        pass
    else:
        tail.run_next = None  # the ring ends at the tail again
    if shielding:
        _off()
    fifo.head = head
    fifo.tail = tail
    sched._polling = False
    ctx.slot = outer_slot
    ctx.sched = outer_sched
    ctx.tkit = outer_tkit
    if outer_held:
        _release(outer_sched)
    if joins:  # counted as wake() counts a task's wakes (under the section: ISRs count too)
        state = sched._enter()
        sched._woken_int += joins
        sched._exit(state)
    if err is None:
        pass
    else:
        raise err  # (a bare raise is not supported in native code)
    return _end(sched, (n if n > 0 else 0) - left, completed, False if head is None else True)

