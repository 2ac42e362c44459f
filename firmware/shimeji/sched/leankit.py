"""``KIT``: what ``run_lean`` (leanloop.py) reads from one tuple, by index (a viper function
reads a module's global by a hashed look-up, an item of a tuple in a local by a load); among
them ``done``, its in-line completion of a task that returned None (item 17).

``done`` is ``StaticScheduler._complete``'s common case without its call, as wordtick.py's
``tick_fifo`` has it in its own body: one viper call, ~150 instructions against ~4k for
``_complete``'s (a child of a spawn-heavy ``RunLoop.run()`` program: docs/benchmarks.md, "Spawn,
round twenty-three"). It lives here, not in a module of its own, so that no name is added to
a firmware's sorted qstr pool (a new one renumbers the later ones: micropython-facts.md)."""

import sys

import micropython
from micropython import const

from .. import core, port
from ..task.waitlist import wake_joiners
from ..task.words import addr_of
from ..time.timerturn import fire, peek
from .endtick import end_lean, ended_aside, poll_interrupted, poll_outcome
from .foreign import shield
from .owntick import base_complete

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython

_FREE = const(0)  # core's states (task/words.py)
_QUEUED = const(1)
_ASLEEP = const(4)
_W_TPOS = const(4)  # the slot's timer entry's number (task/words.py)
_NOT_ARMED = const(0xFFFF)  # ...when it is not armed
_OK = const(2)  # task.slot's OK: also a joiner's wait_phase once its join ended (wordtick.py)


def _bind(nil, flag, kit):  # (flag: KIT[16]; its names are names the package has)
    @micropython.viper
    def done(sched, slot):
        """``sched._complete(slot, OK, None)`` for a plain FIFO scheduler's pool or owned slot
        while run_lean polls (not parallel); returns the one joiner parked by ``core.JOIN``
        that the caller queues at its ring's tail (with nothing else pending, as the drain
        would), else None. Not ISR-safe."""
        sw = ptr32(int(slot.wa)) if flag else ptr32(slot.wa)
        slot.handle._ref = nil
        if sw[_W_TPOS] < _NOT_ARMED:  # its timer armed, never awaited
            slot.timer.cancel()
        home = 1  # a pool slot of sched, unless dirty (TaskSlot.dirty)
        queued = nil
        if slot.dirty:  # a wait list, a wait phase, joiners, a throw to see to, or a slot
            slot.dirty = False  # not of sched's pool
            if slot.owner is not sched:  # (a caller-owned slot's: pool.py)
                home = 0
            if slot.name is nil and slot.waiting_on is nil and not slot.wait_phase and \
                    sw[1] == 0:
                pass
            else:  # a name, a wait list, a hand-driven wait, a cancel (endtick)
                kit[0](slot)
            joiners = slot.joiners
            joiner = joiners.head
            if joiner is nil:
                pass
            else:
                jw = ptr32(int(joiner.wa)) if flag else ptr32(joiner.wa)
                if jw[0] == _ASLEEP and joiner.wait_next is nil and \
                        sched._local_head is nil and sched._inbox_head is nil:
                    joiners.head = nil  # its one joiner, parked by core.JOIN: queued by
                    joiners.tail = nil  # the caller, where the inbox's drain would put it
                    joiners.count = 0
                    joiner.waiting_on = nil
                    # ended: a join ring's await (phase 3) finds its ring empty
                    # (owntick.py), JoinHandle.__next__ reads 2
                    joiner.wait_phase = 0 if int(joiner.wait_phase) == 3 else _OK
                    jw[0] = _QUEUED
                    queued = joiner
                else:
                    kit[1](joiners, slot.id, _OK, nil)
        slot.coro = nil
        sw[7] = 0  # (W_SEND: the next task is a generator unless _start says not)
        sw[0] = _FREE  # first: a wake from now on is a no-op...
        sw[2] = 0  # ...so none can leave rewoken set for the slot's next task
        if home:  # on top of the free list (TaskPool._free_push)
            slot.run_next = sched._free_head
            sched._free_head = slot
        else:
            slot.sched = nil
            if slot.pooled:  # a slot that moved here from another worker goes home
                slot.owner._give_back(slot)
        return queued

    return done


KIT = (None, core.NO_KIT, core.SLEEP, core.PARK, core.JOIN, StopIteration, port.CORO_TYPE.send,
       getattr, end_lean, poll_outcome, poll_interrupted, peek, fire, shield, sys.modules, len,
       1 if type(addr_of(bytearray(4))) is int else 0)  # (16: slots' words' addresses are ints)
KIT = KIT + (_bind(None, KIT[16], (ended_aside, wake_joiners)), base_complete)  # (17, 18)
RP2 = sys.platform == "rp2"  # (run_lean is None there: the native tick of fastpath.py)
