"""How a spawn lands on an executor's worker or its injector with nothing allocated or raised
inside the critical section (issue 14; docs/executor.md, "Session 18"). Module functions that
``Worker`` and ``Executor`` take in as their methods (``_spawn_here = spawn_here``).

Design note. Each spawn makes what it may need before it enters the section (a spare handle,
a grown slot, the checks that raise: spare.py), decides under the section whether it can land
(the executor open, a free slot, a handle for it), lands or not, and after leaving raises what
it found (``ExecutorClosed``, ``PoolFull``) or, when another thread's spawn took the spare it
counted on, makes another and tries again. A spawn made inside the section by the code it
interrupted is refused before any of this (``Executor._check_outside``).
"""

import micropython
from micropython import const

from .. import core
from ..errors import PoolFull
from ..sched.lifecycle import _CORO_TYPE
from ..sched.scheduler import StaticScheduler
from ..task.slot import FREE, TaskSlot
from ..task.spare import grow, ready, spare
from ..task.waitlist import JoinList

_CLOSED = const(1)  # why a spawn left the section without spawning: the executor closed,
_FULL = const(2)  # no free slot,
_AGAIN = const(3)  # or no handle for the slot (another thread took the spare): again


@micropython.native  # (as bytecode its frame passed 11 words: a heap block per spawn)
def spawn_here(self, coro, name=None, detached=False, _context=core.context, _type=type,
               _coro_type=_CORO_TYPE, _spare=spare, _ready=ready, _grow=grow,
               _base=StaticScheduler.spawn):
    """``Worker._spawn_here``: spawn on this worker (any thread). Raises ``ExecutorClosed``,
    or ``PoolFull`` when its slots are all live (``Executor.spawn`` then passes the task to
    another worker), after leaving the section."""
    # Nothing allocates or raises inside the section (spare.py): the handle (and in grow
    # mode the slot) is made first, the checks that raise run first, and a spawn that
    # finds the executor closed or no free slot raises after leaving it.
    running = _context.sched  # (the checks StaticScheduler._spawn makes, made here)
    if _type(coro) is not _coro_type or (running is not None and running is not self
                                        and running.level != self.level):
        if not self.executor.closed:
            self._check_spawn(coro)  # raises unless coro is some other coroutine-like
    why = 0
    while True:  # (a detached spawn into a slot that keeps its handle needs no spare)
        h = self._spare if detached and why != _AGAIN else _spare(self)
        if self.grow and self._free_head is None and self._returned is None:
            _grow(self, self._enter, self._exit)
        state = self._enter()
        try:
            if self.executor.closed:
                why = _CLOSED
            else:
                slot = self._free_head
                if slot is None and self._returned is not None and self._reclaim():
                    slot = self._free_head
                if slot is None:
                    why = _FULL
                elif not _ready(self, slot, h, name):
                    why = _AGAIN  # another thread's spawn took the spare: make one more
                else:
                    why = 0
                    self._building = coro
                    handle = _base(self, coro, name)  # into slot
                    if detached:
                        slot.handle_out = False  # not handed out: the slot reuses it
        finally:
            self._building = None
            self._exit(state)
        if why == 0:
            break
        if why == _CLOSED:
            self.executor._refuse()
        if why == _FULL and not self.grow:
            self._refuse()  # PoolFull (Executor.spawn passes the task to another worker)
    if self.sleeping:
        self.ring()
    return handle


@micropython.native  # (as Executor._check_outside: its refusal adds no traceback entry)
def spawn_allocated(self, slot, coro, name=None, detached=False):
    """``StaticScheduler.spawn_allocated`` on this worker: under the critical section
    (ids and the owned list), refused once closed, and rings the worker if it sleeps.
    Not from inside the critical section (``WrongLevel``). What it allocates (the slot's
    join list at its first use, a handle) is made before the section."""
    self.executor._check_outside()
    if not self.executor.closed:
        self._check_spawn(coro)  # first: a refused spawn leaves the slot unclaimed
    joiners = None
    why = 0
    while True:
        if not isinstance(slot, TaskSlot) or slot.w[0] != FREE or (
                slot.owner is not None and slot.owner is not self._owned_by):
            self._adopt(slot)  # raises SlotBusy, saying what is wrong (before the section)
        if slot.owner is None and joiners is None:
            joiners = JoinList()  # its first use: adopted under the section
        h = self._spare if detached and why != _AGAIN else spare(self)
        state = self._enter()
        try:
            if self.executor.closed:
                why = _CLOSED
            elif slot.w[0] != FREE or (slot.owner is not None
                                       and slot.owner is not self._owned_by):
                why = _AGAIN  # taken meanwhile: _adopt says how, outside
            elif not ready(self, slot, h, name):
                why = _AGAIN
            else:
                why = 0
                if slot.owner is None:  # TaskPool._adopt's registration, with joiners
                    slot.owner = self._owned_by
                    slot.joiners = joiners
                    slot.free_next = self._owned_head
                    self._owned_head = slot
                handle = self._start(slot, coro, name)
                if detached:
                    slot.handle_out = False
        finally:
            self._exit(state)
        if why == 0:
            break
        if why == _CLOSED:
            self.executor._refuse()
    if self.sleeping:
        self.ring()
    return None if detached else handle


@micropython.native  # as bytecode its frame passed 11 words: a heap block per call
def inject(self, coro, name, detached=False):
    """``Executor._inject``: build the task in a free slot of some worker's pool (the next
    in turn that has one), queue it on the injector, ring a sleeping worker. Nothing
    allocates or raises inside the section (spare.py): the handle is made first, the checks
    that raise run first, and a closed executor or a full one raises after leaving it."""
    w = self.workers[0]
    if type(coro) is not _CORO_TYPE and not self.closed:
        w._check_coro(coro)  # raises unless coro is some other coroutine-like
    # (no level check: the injector takes spawns from any level, an interrupt level's task
    # included, under the section, which masks that level or refuses: _check_outside)
    cs = self.critical_section
    why = 0
    while True:  # (a detached spawn into a slot that keeps its handle needs no spare)
        h = self._spare if detached and why != _AGAIN else spare(self)
        handle = None
        state = cs.enter()
        try:
            why = _FULL
            if self.closed:
                why = _CLOSED
            else:
                size = self.size
                start = self._next
                self._next = start + 1 if start + 1 < size else 0
                for k in range(size):
                    i = start + k
                    w = self.workers[i - size if i >= size else i]
                    slot = w._free_head
                    if slot is None and w._returned is not None and w._reclaim():
                        slot = w._free_head
                    if slot is not None:
                        if not ready(self, slot, h, name):
                            why = _AGAIN  # another thread's spawn took the spare
                            break
                        handle = w._build_injected(coro, name, self.injector)
                        if handle is not None:
                            why = 0
                            if detached:
                                slot.handle_out = False  # the slot reuses it
                            break
        finally:
            cs.exit(state)
        if why == 0:
            break
        if why == _CLOSED:
            self._refuse()
        if why == _FULL:
            raise PoolFull("every worker's %d task slots hold live tasks: make the Executor "
                           "with a larger capacity, or join tasks before spawning more"
                           % self.workers[0].capacity)
    self.wake_one()
    return handle


def report(ex, index, e):
    """``Executor.errors`` gains ``(index, e)`` (a worker thread died of ``e``). Any
    thread."""
    # ex.errors gains (index, e): two workers may fail at once (no GIL), so the longer list
    # is made outside the section and swapped in under it if no other thread changed it
    entry = [(index, e)]
    cs = ex.critical_section
    while True:
        old = ex.errors
        longer = old + entry
        state = cs.enter()
        done = ex.errors is old
        if done:
            ex.errors = longer
        cs.exit(state)
        if done:
            return
