"""The general tick (any policy; ``tick_fifo`` in fastpath.py is plain FIFO's) and ``Tick``,
the record every tick path returns.

``tick_general`` is apart from ``StaticScheduler.tick()`` so that ``tick()`` stays a small
function: a bytecode call whose frame needs more than 11 words (locals + stack) has it
allocated on the heap and freed again, a gc_alloc scan each call. ``tick_general`` itself is
native for the same reason (its frame is far past 11 words: as bytecode every ``tick()``
under a non-FIFO policy took a 344 B heap frame on the unix port).
"""

import micropython
from micropython import const

from .. import core, port
from ..core import wrap_count
from ..errors import Cancelled
from ..task.pool import hold_local, release_local
from ..task.slot import CANCELLED, FAILED, OK
from .endtick import tick_kit
from .foreign import shield as _shield

_QUEUED = const(1)  # core's states: consts (an imported name is a look-up, and more code)
_RUNNING = const(2)


class Tick:
    """What one ``tick()`` did. The scheduler reuses one Tick object: copy what you keep.

    ``spawned``, ``woken_external`` and ``woken_internal`` count events since the previous
    tick (a wake from an interrupt between ticks is external); ``woken`` is the sum of both.
    """

    def __init__(self):
        self.polled = 0
        self.completed = 0
        self.spawned = 0
        self.woken_external = 0
        self.woken_internal = 0
        self.woken = 0
        self.has_remaining = False

    def __repr__(self):
        return "Tick(polled=%d, completed=%d, spawned=%d, woken=%d+%d, has_remaining=%s)" % (
            self.polled,
            self.completed,
            self.spawned,
            self.woken_internal,
            self.woken_external,
            self.has_remaining,
        )


@micropython.native
def tick_general(sched, n):
    """``sched.tick(n)`` for any policy: polls in ``policy.pick()`` order, charges timed
    policies, puts yielding tasks back with ``put_back``. Returns the ``Tick``. Not ISR-safe."""
    if sched._inbox_head is None and not sched.policy.has_ready():
        return sched._end_tick(0, 0)  # nothing to poll: no set-up, no shield (as tick_fifo)
    ctx = sched._ctx
    outer_slot = ctx.slot  # a task of another scheduler may be driving this one
    outer_sched = ctx.sched
    outer_start = ctx.poll_start
    pick = sched._pick
    put_back = sched._put_back
    charge = sched._charge
    clock = sched._clock_us
    park = core.PARK
    polled = 0
    completed = 0
    sched._polling = True
    outer_held = False
    if outer_sched is not None:  # a task of outer_sched drives this tick (see hold_local)
        outer_held = hold_local(outer_sched)
    ctx.sched = sched
    outer_tkit = ctx.tkit  # (sleep_ms: see fastpath.tick_fifo)
    ctx.tkit = tick_kit(sched)
    if sched._shielding:
        _shield.on()  # asyncio's awaitables raise ForeignAwaitable while tasks run
    try:
        if sched._inbox_head is not None:
            sched._drain_inbox()
        while polled < n:
            slot = pick()
            if slot is None:
                break
            polled += 1
            slot.w[0] = _RUNNING
            ctx.slot = slot
            if charge is not None:
                t0 = ctx.poll_start = clock()
            try:
                if slot.throw_exc is None:
                    r = slot.coro.send(None)
                else:
                    r = sched._throw_in(slot)
            except StopIteration as e:
                ctx.slot = None
                sched._complete(slot, OK, e.value)
                completed += 1
                r = park
            except Cancelled as e:
                ctx.slot = None
                sched._complete(slot, CANCELLED, e)
                completed += 1
                r = park
            except Exception as e:  # a failing task never takes the scheduler down
                ctx.slot = None
                sched._complete(slot, FAILED, e)
                sched.failed_total = wrap_count(sched.failed_total, 1)
                completed += 1
                r = park
            except BaseException as e:  # KeyboardInterrupt, SystemExit: record, re-raise
                ctx.slot = None
                sched._interrupted(slot, e)
                raise e  # (native code has no bare re-raise)
            ctx.slot = None
            preempted = False
            if charge is not None:
                preempted = charge(slot, port.ticks_diff(clock(), t0))
            if slot.w[0] != _RUNNING:  # (the state word: task/words.py)
                pass  # completed above
            elif r is None:
                slot.w[0] = _QUEUED
                if sched._inbox_head is not None:
                    sched._drain_inbox()  # what it woke goes first (fastpath.py)
                put_back(slot, preempted)
            elif r is park:
                if sched._park(slot):  # woken while it ran: it stays runnable
                    sched._add(slot)
            elif r is core.SLEEP:
                if sched._park_sleep(slot):  # its timer fired already
                    sched._add(slot)
            else:
                sched._foreign(slot, r)
                put_back(slot, False)
            if sched._inbox_head is not None:
                sched._drain_inbox()
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
    return sched._end_tick(polled, completed)
