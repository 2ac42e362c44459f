"""The facade's ``Task``, its exceptions, and the scheduler that runs facade tasks.

A ``Task`` is the ``JoinHandle`` of a task slot on the loop's ``StaticScheduler`` (grow mode),
so shimeji tasks can await it and facade tasks can await shimeji handles. Its ``state`` and
``data`` follow MicroPython's asyncio ``Task``: ``state`` is True while it runs, then None
(finished, not awaited) or False (finished and awaited); a task being awaited or gathered
holds that in ``state`` too, and ``data`` names what a waiting task waits on, so that a cancel
is forwarded to the task it awaits, as asyncio does.
"""

import micropython

from .. import core
from ..errors import Cancelled
from ..sched.scheduler import StaticScheduler
from ..task.slot import FAILED, OK, PENDING, RUNNING, JoinHandle, TaskSlot, _value_of

_ctx = core.context
_PARK = core.PARK


class CancelledError(Cancelled):
    """Raised inside a cancelled task, and by awaiting it. A ``BaseException`` (through
    shimeji's ``Cancelled``), so ``except Exception`` does not swallow it."""


class TimeoutError(Exception):  # noqa: A001 (asyncio's name)
    """``wait_for`` and ``timeout()`` gave up."""


class InvalidStateError(Exception):
    """A task's result was asked for before it finished."""


_base_complete = StaticScheduler._complete
_WAITED = "waited"  # Task.state while other tasks await it
_finish = core.Finish()


class Task(JoinHandle):
    """A coroutine scheduled by ``create_task``: ``cancel()``, ``done()``, ``await task``.

    Not made directly: ``create_task(coro)`` makes and schedules one. Not ISR-safe."""

    # JoinHandle's fields as class defaults: the spawn sets them, so making a Task stores
    # only its coroutine (fewer stores and a smaller attribute table per task). Its outcome
    # is JoinHandle's: ``_state()``, and the value in ``_ref`` (``_value_of``).
    _ref = None
    id = 0
    data = None  # what it waits on (a Task: cancel is forwarded there)
    state = True

    def __init__(self, coro=None, globals=None):
        self.coro = coro

    def __repr__(self):
        return "<Task>"

    def done(self):
        """True once the task returned, raised or was cancelled."""
        return self._state() > PENDING

    def cancel(self, msg=None):
        """Cancel the task: ``CancelledError`` is raised inside it at its next run (in the
        task it awaits, if it awaits one). False if it already finished. A task cannot cancel
        itself (``RuntimeError``)."""
        if self._state() > PENDING or self._live_slot() is None:
            return False
        me = _ctx.slot
        if me is not None and me.handle is self:
            raise RuntimeError("can't cancel self")
        t = self
        while (isinstance(t.data, Task) and t.data._state() <= PENDING
               and t.data._live_slot() is not None):
            t = t.data
        t.throw_in(CancelledError)
        return True

    def throw_in(self, exc):
        """Raise ``exc`` (an exception class or instance) inside the task at its next run,
        taking it off whatever it waits on. Not ISR-safe."""
        slot = self._live_slot()
        if slot is None:
            return
        self.data = CancelledError
        slot.throw_exc = exc
        slot.cancel_requested = True
        sched = slot.sched
        if slot.state != RUNNING:
            sched._unwait(slot)
        sched.wake(slot)

    def result(self):
        """The task's return value, or its exception raised. ``InvalidStateError`` if it has
        not finished."""
        if self._state() <= PENDING:
            raise InvalidStateError("result is not ready")
        return JoinHandle.result(self)

    def exception(self):
        """The exception the task raised, or None. ``InvalidStateError`` if it has not
        finished."""
        status = self._state()
        if status <= PENDING:
            raise InvalidStateError("exception is not set")
        return None if status == OK else _value_of(self._ref)

    def cancelled(self):
        return self.is_cancelled()

    def __iter__(self):
        state = self.state
        if not state:
            self.state = False  # finished: it has been awaited
        elif state is True:
            self.state = _WAITED
        elif state is not _WAITED:
            raise RuntimeError("can't wait")  # it is being gathered
        return self

    __await__ = __iter__

    def __next__(self):
        me = _ctx.slot
        if me is None:
            me = core.current_slot()  # raises NoCurrentTask
        if self._state() > PENDING:
            waiter = me.handle
            if isinstance(waiter, Task):
                waiter.data = None
            me.wait_status = 0
            me.wait_value = None
            me.wait_key = None
            if self._state() == OK:
                value = _value_of(self._ref)
                if value is None:
                    raise _finish.done()
                raise StopIteration(value)
            raise _value_of(self._ref)
        slot = self._live_slot()
        if slot is None:
            raise RuntimeError("this Task was never scheduled: use create_task(coro)")
        if me.waiting_on is slot.joiners:
            return _PARK  # a spurious wake: still waiting for it
        if slot is me:
            raise RuntimeError("a task cannot await itself")
        slot.joiners.push(me)
        waiter = me.handle
        if isinstance(waiter, Task):
            waiter.data = self
        return _PARK


_REMOVE = "gathering"  # the gather task's data while it waits


class _Gather:
    """The callback set as ``state`` of each gathered task (``FacadeScheduler._complete``
    runs its body in line for a task that completes)."""

    def __init__(self, task, return_exceptions):
        self.task = task
        self.return_exceptions = return_exceptions
        self.state = 0

    def __call__(self, t):
        gt = self.task
        if gt.data is not _REMOVE:
            return  # already woken, or cancelled from outside
        if t._ref is not None and not self.return_exceptions and t._state() != OK:
            self.state = _value_of(t._ref)  # (a _ref of None: returned None, the common case)
        else:
            self.state -= 1
            if self.state:
                return
        gt.data = None
        slot = gt._live_slot()
        if slot is not None:
            slot.sched.wake(slot)


class FacadeScheduler(StaticScheduler):
    """A FIFO ``StaticScheduler`` in grow mode whose completions keep asyncio's Task state."""

    def __init__(self, loop, capacity, timer):
        StaticScheduler.__init__(self, capacity, timer=timer, grow=True)
        self.loop = loop

    @micropython.native
    def _complete(self, slot, status, value):
        t = slot.handle
        _base_complete(self, slot, status, value)
        if type(t) is not Task and not isinstance(t, Task):
            return
        # Task._finished, inlined: this runs once per task
        state = t.state
        loop = self.loop
        main = t is loop.main
        if state is True:
            t.state = False if main else None
            if status == FAILED and not main:
                loop._report_later(t)
        elif state is _WAITED:
            t.state = False
        elif state:
            if type(state) is _Gather:  # _Gather.__call__(t), in line: once per task
                gt = state.task
                if gt.data is _REMOVE:
                    if status != OK and not state.return_exceptions:
                        state.state = value  # its exception
                        left = 0
                    else:
                        left = state.state - 1
                        state.state = left
                    if left == 0:
                        gt.data = None
                        ref = gt._ref
                        if isinstance(ref, TaskSlot):
                            ref.sched.wake(ref)
            else:
                state(t)
            t.state = False
        if main and self._polling:
            loop.stop_tick()

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
            self._free_head = slot.free_next
            if self._free_head is None:
                self._free_tail = None
            slot.free_next = None
        elif self._returned is not None and self._reclaim():
            return self.spawn_task(task, coro)  # slots freed by another scheduler came back
        else:
            slot = self._grow_slot()
        slot.handle = task
        slot.handle_out = False  # _start takes ``task`` as the slot's handle (and hands it out)
        return self._start(slot, coro, None)
