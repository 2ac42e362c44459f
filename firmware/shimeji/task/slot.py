"""Task handles: ``JoinHandle`` (a task's result, cancellation and identity); ``TaskSlot``
(one task's storage: task/taskslot.py) and ``TaskBuilder`` (task/builder.py) are re-exported
here, their home of old.

Handles. A handle that was handed out (``spawn`` returns it, ``current_task()`` gives it) is
never reused, so an old handle never acts on a later task in the slot. It keeps its task's
outcome (``result()`` again is fine); after ``detach()`` every use raises ``StaleHandle``. The
slot's next task gets a new handle: two fields, 64 B on the unix port (an asyncio Task's size).
It cannot be free too: the holder's reference is the object itself, with no copy of a
generation for the slot to check (a Rust handle is a value), so a reused object would let
``h.cancel()`` reach the later task. ``spawn_detached`` hands out no handle: the slot reuses it
and spawning allocates nothing.
"""

import micropython
from micropython import const

from .. import core
from ..core import ASLEEP, FREE, QUEUED, RUNNING, WAITING  # noqa: F401 (states, re-exported)
from ..errors import Cancelled, JoinSelf, StaleHandle, TaskNotComplete, WrongLevel
from .builder import TaskBuilder  # noqa: F401 (re-exported: its home was this module)
from .taskslot import HANDLE as _HANDLE
from .taskslot import TaskSlot  # (by its module: `from . import taskslot` is a lazy look-up first)

# Outcome of a task (JoinHandle._status, and what a joiner receives).
_UNUSED = 0
PENDING = 1
OK = 2
_OK = const(2)  # OK in native code (a module global there is a look-up and more); also a
# joiner's wait_phase once the tick's in-line completion ended its join (the task returned None)
FAILED = 3
CANCELLED = 4
DETACHED = 5  # the holder gave the handle up: every use raises StaleHandle
_UNSET = object()  # the _ref of a handle never given a task
_DONE_ITER = iter(())  # exhausted for good: every await of a handle done with None shares it


_join_finish = core.Finish()  # (before JoinHandle: its __next__ takes its exc as a default)


def _outcome(status, value):
    if status == OK:
        return value
    if status == FAILED:
        raise value
    if isinstance(value, Cancelled):  # keeps the reason: cancelled, closed, interrupted
        raise value
    raise Cancelled("the task was cancelled")


@micropython.native  # (defaults of the same names: no global read, no new qstr)
def _finish(status, value, me, _join_finish=_join_finish, StopIteration=StopIteration,
            _outcome=_outcome):
    if status == _OK:
        if value is None:
            raise _join_finish.done()
        sched = me.sched
        if sched is None:  # a slot outside any scheduler (tests drive _join_parallel so)
            raise StopIteration(value)
        raise sched.value_finish.done(value)
    return _outcome(status, value)


def _await_of(done, nil):
    """``JoinHandle.__iter__`` (and ``__await__``): ``done`` (an exhausted iterator) for a
    handle whose task returned None, which ends the await with None (no ``__next__`` call, no
    raise), else the handle itself. A viper closure: MicroPython calls a viper function
    without the native or bytecode frame's set-up (an await of a finished handle, a loop of
    awaits' every step); ``done`` and ``nil`` (None as an object: viper compares objects with
    objects) are its cells, not global look-ups."""

    @micropython.viper
    def __iter__(self):
        if self._ref is nil:
            return done
        return self

    return __iter__


class JoinHandle:
    """A task's result, its cancellation and its identity (``id``, ``name``).

    Await it from another task to get the task's return value (or its exception, or
    ``Cancelled``). It stands for its own task for good: never for a later task in the same
    slot. ``detach()`` gives it up: any later use raises ``StaleHandle``.
    """

    # Two fields (each costs heap): ``id``, and ``_ref``: the task's slot while it runs, then
    # its return value or the exception it ended with (a returned exception or slot is in a
    # ``_Returned``), or ``_DETACHED``. ``name`` only when given. The slot's ``handle_out``
    # says whether it may reuse its handle. No properties: they slow every store on MicroPython.
    # Class defaults, and no ``__init__``: spawn stores ``_ref`` and ``id`` into a bare
    # ``JoinHandle()`` (a Python-level ``__init__`` call costs more than the two stores).
    _ref = _UNSET
    id = 0
    name = None

    @micropython.native  # (defaults of the same names: no global read, no new qstr)
    def _live_slot(self, isinstance=isinstance, TaskSlot=TaskSlot):
        """The live task's slot; None once it has finished (or the handle was detached)."""
        r = self._ref
        return r if isinstance(r, TaskSlot) else None

    def _state(self):
        ref = self._ref
        if ref is None:
            return OK
        if ref is _UNSET:
            return _UNUSED
        if ref is _DETACHED:
            return DETACHED
        if isinstance(ref, TaskSlot):
            return PENDING
        if isinstance(ref, BaseException):
            return CANCELLED if isinstance(ref, Cancelled) else FAILED
        return OK

    def __repr__(self):
        return "<JoinHandle id=%d name=%r %s>" % (
            self.id,
            self.name,
            ("unused", "pending", "ok", "failed", "cancelled", "detached")[self._state()],
        )

    def is_complete(self):
        """True once the task has returned, raised or been cancelled. ISR-safe."""
        status = self._state()
        if status == DETACHED:
            self._stale()
        return status > PENDING

    def is_cancelled(self):
        """True if the task was cancelled. ISR-safe."""
        status = self._state()
        if status == DETACHED:
            self._stale()
        return status == CANCELLED

    def _stale(self):
        raise StaleHandle("this JoinHandle (task %d, %r) was detached: it no longer stands for "
                          "any task; keep the handle instead of detaching it if you need the "
                          "task's result, or cancel it" % (self.id, self.name))

    def result(self):
        """The task's return value; raises its exception, or ``Cancelled``.

        Raises ``TaskNotComplete`` if the task is still running: await the handle instead.
        Not ISR-safe (that error allocates): call it from a task, the run loop or the REPL.
        """
        status = self._state()
        if status == DETACHED:
            self._stale()
        if status <= PENDING:
            raise TaskNotComplete(
                "task %d (%r) has not finished: await its handle, or tick the scheduler "
                "until handle.is_complete()" % (self.id, self.name)
            )
        return _outcome(status, _value_of(self._ref))

    def cancel(self):
        """Cancel the task: it leaves any wait at once and ``Cancelled`` is raised inside it
        at its next poll. Returns True if this took effect, False if the task had already
        finished or a cancellation is already pending. Not ISR-safe: it makes the
        ``Cancelled`` exception and disarms the task's timer entry, which the run loop owns;
        from another thread while a loop runs, ``bg.call(handle.cancel)``."""
        ref = self._ref
        if ref is _DETACHED:
            self._stale()
        if not isinstance(ref, TaskSlot) or ref.sched is None:
            return False
        return ref.sched.cancel_slot(ref)

    def detach(self):
        """Give the handle up: nobody will join or cancel the task through it; any later use
        raises ``StaleHandle``. The task runs on. Returns None. Detaching a running task's
        handle makes its slot a handle of its own (one small object; for a task that needs no
        handle, ``sched.spawn_detached(coro)`` allocates nothing). Not ISR-safe."""
        ref = self._ref
        if ref is _DETACHED:
            self._stale()  # (detached twice: the second is a use of a given-up handle too)
        if isinstance(ref, TaskSlot) and ref.handle is self:  # running: its slot gets a handle of
            own = new_handle(JoinHandle)  # its own, which nobody holds (the completion writes
            own._ref = ref  # the slot's handle without asking whether it was detached)
            own.id = self.id
            if self.name is not None:
                own.name = self.name
            ref.handle = own
            ref.handle_out = False
        self._ref = _DETACHED

    __iter__ = _await_of(_DONE_ITER, None)  # (a viper closure: see _await_of)
    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=core.context, _park=core.PARK, _slot_type=TaskSlot,
                 _join_stop=_join_finish.exc, _join=core.JOIN, _threads=core._threads):
        # No global read (defaults, a method for misuse, no new names): see lifecycle.py's spawn.
        me = _ctx.slot  # core.current_slot() without the call
        if me is None or _threads:  # executor workers: the calling thread tells (core.py)
            me = self._no_task()  # raises NoCurrentTask
        wait_phase = me.wait_phase
        if wait_phase == 0:
            slot = self._ref
            if slot is None:  # _finish's common case, in line
                exc = _join_stop
                exc.__traceback__ = None
                raise exc
            if slot.__class__ is not _slot_type and self._live_slot() is None:  # finished
                return self._finished(me)
            sched = slot.sched
            mine = me.sched
            if sched is mine:  # a task of my scheduler: it ends in one of its ticks
                if slot is me:
                    self._wrong_level(me)  # raises JoinSelf
                if sched._local_ok:  # tick_fifo polls me on this thread (so not parallel):
                    r = _join  # no section, to park or to wake (core.JOIN)
                elif sched.parallel:  # the task may finish on another thread meanwhile
                    return self._join_parallel(me, sched)
                else:
                    r = _park
            else:
                if sched is None:  # completed on another thread since _slot was read
                    sched = mine
                if sched.level != mine.level:
                    self._wrong_level(me)  # raises WrongLevel
                if sched.parallel:
                    return self._join_parallel(me, sched)
                r = _park
            me.wait_phase = 1
            joiners = slot.joiners  # joiners.push(me), in line (me is on no list: it runs)
            last = joiners.tail
            me.waiting_on = joiners
            me.dirty = True  # (both: each completion has a list to see to; TaskSlot.dirty)
            slot.dirty = True
            if last is None:  # (me on no list: its wait_prev and wait_next are None)
                joiners.head = me
            else:
                me.wait_prev = last
                last.wait_next = me
            joiners.tail = me
            joiners.count += 1
            return r
        if wait_phase == _OK:  # ended by the tick's in-line completion: it returned None
            me.wait_phase = 0
            exc = _join_stop
            exc.__traceback__ = None
            raise exc
        status = me.wait_status
        if status == 0:
            return _park  # woken for another reason; still on the joiners list
        value = me.wait_value
        me.wait_phase = 0
        me.wait_status = 0
        if value is None:  # (wait_key, never read after a join, is left: see fastpath.py)
            if status == _OK:
                exc = _join_stop
                exc.__traceback__ = None
                raise exc
        else:
            me.wait_value = None  # (the task's result is not kept alive by the joiner's slot)
        return self._end(status, value, me)

    _end = staticmethod(_finish)  # (a value or an error: __next__'s rare end, off its defaults)

    def _no_task(self):  # (a method: the look-up costs nothing on the one-thread join path)
        return core.current_slot()  # raises NoCurrentTask

    def _wrong_level(self, me):  # (JoinSelf too: a name the firmware's qstr pool has)
        if self._ref is me:
            raise JoinSelf("a task cannot await its own JoinHandle: it would wait forever")
        raise WrongLevel("a task cannot await the JoinHandle of a task on another level "
                         "(thread vs interrupt): signal its end with an Event or a Channel")

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _join_parallel(self, me, sched):
        # Check and link under the critical section that the executor's workers complete
        # tasks under, so a completion cannot fall between the two.
        cs = sched.critical_section
        state = cs.enter()
        try:  # (WaitList.push asserts: a section's exit is certain)
            slot = self._ref
            finished = not isinstance(slot, TaskSlot)  # it finished meanwhile
            if not finished:
                me.wait_phase = 1
                slot.joiners.push(me)
                slot.dirty = True  # (its completion wakes its joiners: TaskSlot.dirty)
        finally:
            cs.exit(state)
        if finished:
            return self._finished(me)
        return core.PARK


class _Returned:
    """A task's return value that is an exception or a TaskSlot (a handle's ``_ref`` holds
    those for a failed and a running task)."""

    def __init__(self, value):
        self.value = value


def _value_of(ref):
    return ref.value if type(ref) is _Returned else ref


@micropython.native  # (defaults of the same names: no global read but on the rare ways)
def _finished(self, me, isinstance=isinstance, BaseException=BaseException, object=object,
              _Returned=_Returned, _finish=_finish):
    # ``await`` on a handle whose task has finished (or that was detached, or never used):
    # JoinHandle's. A returned value ends the await with no bytecode frame (as bytecode with
    # _state() and _value_of(), ~10k instructions an await, most of them global look-ups).
    ref = self._ref
    cls = ref.__class__
    if cls is object or isinstance(ref, BaseException):  # detached, never used; an error
        status = self._state()
        if status == DETACHED:
            self._stale()
        if status == _UNUSED:
            raise TaskNotComplete("this JoinHandle was never given a task")
        return _finish(status, ref, me)
    return _finish(_OK, ref.value if cls is _Returned else ref, me)


JoinHandle._finished = _finished  # (here: its defaults are defined above it)


@micropython.native  # (bytecode, it looked OK, isinstance, BaseException and TaskSlot up: ~5k
def completed_ref(status, value, isinstance=isinstance, cls=(BaseException, TaskSlot),
                  _Returned=_Returned):  # instructions a value-returning task's completion)
    """What a finished task's handle keeps in ``_ref`` (see JoinHandle)."""
    if status == _OK and isinstance(value, cls):  # (cls: what is kept wrapped)
        return _Returned(value)
    return value


def _call_class(cls):  # (ports built without object.__new__)
    return cls()


# A bare instance, without the class call's search for __new__ and __init__ (half the cost).
new_handle = getattr(object, "__new__", None) or _call_class
_DETACHED = object()  # a detached handle's _ref
_HANDLE[0] = JoinHandle  # (TaskSlot makes its first handle: taskslot.py)
