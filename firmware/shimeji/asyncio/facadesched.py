"""``FacadeScheduler``: the scheduler that runs the facade's tasks (one per loop).

A FIFO ``StaticScheduler`` in grow mode whose completions keep asyncio's ``Task`` state
(``state``, a failure reported to the loop's exception handler a round later, a gather woken
by a failure it waits for: see task.py), whose cancels go through ``Task.cancel``, and whose
``spawn_task`` runs a coroutine as a ``Task`` made beforehand.
"""

import micropython
from micropython import const

from ..sched.scheduler import StaticScheduler
from ..task.slot import completed_ref
from ..task.waitlist import wake_joiners
from .contexts import unwrapped
from .sleeping import SleepMs
from .task import _WAITED, Task, _fail_gathered, _gathers

_OK = const(2)  # task.slot.OK, as a constant (a global read in native code is a lookup)
_FAILED = const(3)  # task.slot.FAILED
_FREE = const(0)  # core.FREE

_base_complete = StaticScheduler._complete


class _MainOwner:
    """Stands in as the owner of the main task's slot while ``run_until_complete`` runs it: the
    completion of a pool slot whose owner is not its scheduler ends by handing the slot to that
    owner (``_give_back``), the last step of ``tick_fifo``'s in-line completion too, so this is
    where the main task's end stops the tick (see ``FacadeScheduler``). Cold: once a run."""

    def __init__(self, sched):
        self.sched = sched

    def _give_back(self, slot):
        sched = self.sched
        slot.owner = sched
        sched._free_push(slot)
        if slot.handle is sched.main and sched._polling:
            sched.loop.stop_tick()


class FacadeScheduler(StaticScheduler):
    """A FIFO ``StaticScheduler`` in grow mode whose completions keep asyncio's Task state."""

    # Design note: a task that returned None is completed by ``tick_fifo`` in line, as on a
    # plain StaticScheduler (no call): its Task keeps nothing but its outcome (see Task), so
    # the class leaves ``_complete`` alone (tick_fifo asks the class) and binds its own,
    # ``_complete_task``, on the instance, where every other completion finds it. The main
    # task's end, which must stop the tick at once (asyncio's ``run_until_complete``), is seen
    # through its slot's owner (``_MainOwner``), set while it runs.

    def __init__(self, loop, capacity, timer):
        StaticScheduler.__init__(self, capacity, timer=timer, grow=True)
        self.loop = loop
        self.main = None  # the task loop.run_until_complete runs (its end stops the tick)
        self.main_owner = _MainOwner(self)
        self._complete = self._complete_task
        for slot in self.slots:  # each slot's sleep_ms awaitable, made now: sleeping
            slot.fsleep = SleepMs(slot, timer)  # allocates nothing afterwards

    def _grow_slot(self):
        slot = StaticScheduler._grow_slot(self)
        slot.fsleep = SleepMs(slot, self.timer)
        return slot

    @micropython.native
    def _complete_task(self, slot, status, value, _task=Task):
        t = slot.handle
        if slot.owner is not self and slot.pooled:
            slot.owner = self  # the main task's slot (_MainOwner): stopped below
        if (status == _OK and t.__class__ is _task and t._ref is slot and self._trace is None
                and slot.waiting_on is None and slot.pooled):
            # StaticScheduler._complete, in line, for a facade task that returned a value: no
            # wait list to leave, no trace, a pool slot of this (never parallel) scheduler.
            # Nothing is stored in the Task but its outcome (see Task's design note).
            t._ref = completed_ref(_OK, value)
            w = slot.w  # (its words: task/words.py)
            if w[4] < 0xFFFF:  # its timer armed (W_TPOS)
                slot.timer.cancel()
            slot.wait_phase = 0
            slot.wait_key = None
            slot.wait_status = 0
            slot.wait_value = None
            joiners = slot.joiners
            if joiners.head is not None:
                wake_joiners(joiners, slot.id, _OK, value)
            slot.coro = None
            if slot.throw_exc is not None:  # (cancel_requested is only ever set with it)
                slot.throw_exc = None
                w[1] = 0  # (its flag)
                slot.cancel_requested = False
            w[7] = 0  # W_SEND: a generator next (the in-line create_task does not write it)
            w[0] = _FREE  # first: a wake from now on is a no-op...
            w[2] = 0  # ...so none can leave rewoken set for the next task
            slot.run_next = self._free_head  # on top of the free list (TaskPool._free_push:
            # it keeps its sched, TaskSlot.sched)
            self._free_head = slot
            if t is self.main and self._polling:
                self.loop.stop_tick()
            return
        coro = slot.coro
        _base_complete(self, slot, status, value)
        if type(t) is not _task and not isinstance(t, _task):
            return
        # Task._finished, inlined: this runs once per task
        state = t.state
        main = t is self.main
        if state is _WAITED:
            t.state = False
        elif state is True and status != _OK:
            if _gathers and _fail_gathered(t, value):
                t.state = False  # a gather took its exception
            elif main:
                t.state = False
            else:
                t.state = None  # finished, not awaited: a failure is reported a round later,
                if status == _FAILED:  # unless awaited meanwhile (not a cancellation)
                    t.coro = unwrapped(coro)  # (the exception handler shows it)
                    self.loop._report_later(t)
        if main and self._polling:
            self.loop.stop_tick()

    def _throw_in(self, slot):
        handle = slot.handle
        if isinstance(handle, Task):
            handle.data = None
        return StaticScheduler._throw_in(self, slot)

    def cancel_slot(self, slot):
        handle = slot.handle
        if isinstance(handle, Task):
            return handle.cancel()
        return StaticScheduler.cancel_slot(self, slot)

    @micropython.native
    def spawn_task(self, task, coro):
        """Run ``coro`` as the facade ``task`` (its handle) in a free slot."""
        slot = self._free_head
        if slot is not None:
            self._free_head = slot.run_next
            slot.run_next = None
        elif self._returned is not None and self._reclaim():
            return self.spawn_task(task, coro)  # slots freed by another scheduler came back
        else:
            slot = self._grow_slot()
        slot.handle = task
        slot.handle_out = False  # _start takes ``task`` as the slot's handle (and hands it out)
        return self._start(slot, coro, None)
