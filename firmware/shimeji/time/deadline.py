"""``timeout(awaitable, ms)``: give up on work that takes too long.

Design note. Each task slot has a second timer entry, ``slot.deadline`` (made by the slot's
first timeout: most tasks never need it, and a slot is smaller without it), that holds the
earliest pending timeout of the task, and ``slot.deadline_owner``, the guard that armed it. When
it fires, ``DeadlineExpired`` is thrown into the task (like a cancellation: the task leaves any
wait list at once), unwinds the abandoned work (its ``finally`` blocks run), and the guard that
owns the deadline turns it into ``Timeout`` for its caller. A nested timeout whose deadline is
later than its outer one's leaves the entry alone; an earlier one borrows the entry and gives
the outer deadline back when it ends. Each slot keeps one guard for reuse, so a timeout around
an allocation-free awaitable allocates nothing (after the slot's first) unless timeouts are
nested.
"""

import sys

import micropython
from micropython import const

from .. import core
from ..core import FREE, WAITING
from ..errors import BadArgument, DeadlineExpired, Timeout, int_arg
from .sleep import _ring_iter
from .timer import timer_of
from .wheel import TimerEntry

_DEADLINE_MISS = const(14)  # trace.kinds.DEADLINE_MISS
_END = object()  # next()'s default: the ring sleep's iterator is done


def _expire(entry):
    """Fires from ``turn()``: throw the expiry into the task that armed ``entry``."""
    slot = entry.slot
    if slot.w[0] == FREE or slot.id != entry.key or slot.sched is None:
        return  # that task is gone
    if slot.throw_exc is None or slot.throw_exc is core.JOIN:  # (JOIN: sched/owntick.py)
        # The class, not an instance: the throw makes the instance, at the task's next poll,
        # so turn() allocates nothing (a pre-made instance's traceback would keep growing).
        slot.throw_exc = DeadlineExpired
        slot.w[1] = 1  # (its flag: task/words.py)
    if slot.sched._trace is not None and slot.deadline_owner is not None:
        slot.sched._trace.record(_DEADLINE_MISS, slot.id, slot.deadline_owner.ms)
    if slot.w[0] >= WAITING:  # WAITING, or ASLEEP on its ring sleep
        slot.sched._unwait(slot)
    core.wake(slot)


class TimeoutGuard:
    """The awaitable ``timeout()`` returns. Await it once, from the task that made it."""

    def __init__(self):
        self.busy = False
        self.ms = 0
        self._aw = None
        self._it = None
        self._gen = False  # the inner iterator has send/throw/close (a coroutine)
        self._ring = False  # the inner iterator is the ring sleep's (sleep.py)
        self._slot = None  # set once armed
        self._wheel = None
        self._owner = False  # this guard armed slot.deadline
        self._prev_owner = None
        self._prev_deadline = 0
        self._finish = core.Finish()

    def _prepare(self, aw, ms):
        self.busy = True
        self.ms = ms
        self._aw = aw

    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def _start(self):
        slot = core.current_slot()
        timer = timer_of(slot)
        ticks = timer.ticks_for_ms(self.ms)
        aw = self._aw
        self._aw = None
        it = aw.__await__() if hasattr(aw, "__await__") else iter(aw)
        self._it = it
        self._gen = hasattr(it, "send")
        self._ring = it is _ring_iter
        self._slot = slot
        entry = slot.deadline
        if entry is None:  # the slot's first timeout(): most tasks never need the entry
            entry = slot.deadline = TimerEntry(slot)
        wheel = timer.wheel
        self._wheel = wheel
        mine = timer._ahead(ticks)
        if entry.pos >= 0 and entry.wheel is wheel:
            if (entry.deadline - wheel.now) & 0x3FFFFFFF <= mine:
                self._owner = False  # the outer deadline comes first: leave it
                return
            self._prev_owner = slot.deadline_owner
            self._prev_deadline = entry.deadline
        else:
            self._prev_owner = None
        self._owner = True
        slot.deadline_owner = self
        entry.callback = _expire
        entry.key = slot.id
        wheel.arm_after(entry, mine)

    def _end(self):
        slot = self._slot
        if slot is not None and self._owner:
            entry = slot.deadline
            entry.cancel()
            prev = self._prev_owner
            slot.deadline_owner = prev
            if prev is not None:
                self._wheel.arm(entry, self._prev_deadline)  # give the outer deadline back
        self._slot = None
        self._it = None
        self._owner = False
        self._prev_owner = None
        self.busy = False

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def __next__(self):
        if self._slot is None:
            try:
                self._start()
            except BaseException as e:
                self._end()
                raise e  # (native code has no bare re-raise)
        try:
            if self._gen:
                return self._it.send(None)
            if not self._ring:
                return self._it.__next__()
            r = next(self._it, _END)  # the C iterator's __next__ would allocate StopIteration
            if r is not _END:
                return r
        except StopIteration as e:
            value = e.value
            self._end()
            if value is None:
                raise self._finish.done()  # noqa: B904 (allocation-free re-raise)
            raise core.current_slot().sched.value_finish.done(value)  # noqa: B904
        except BaseException as e:
            self._end()
            raise e
        self._end()  # the ring sleep ended
        raise self._finish.done()

    def throw(self, exc, val=None, tb=None):
        """Called by ``await`` when the scheduler throws into the task (expiry, cancel).
        Not ISR-safe."""
        if val is not None:
            exc = val
        try:
            if self._gen:
                return self._it.throw(exc)
            raise exc
        except StopIteration as e:  # the inner work caught it and finished
            value = e.value
            self._end()
            if value is None:
                raise self._finish.done()  # noqa: B904
            raise core.current_slot().sched.value_finish.done(value)  # noqa: B904
        except DeadlineExpired:
            slot = self._slot
            mine = slot is not None and self._owner and slot.deadline_owner is self
            ms = self.ms
            self._end()
            if mine:
                raise Timeout("the awaited work did not finish within %d ms" % ms)  # noqa: B904
            raise
        except BaseException:
            self._end()
            raise

    def close(self):
        """Called when the task's coroutine is closed: disarm and close the inner work.
        Not ISR-safe."""
        it = self._it
        gen = self._gen
        self._end()
        if it is not None and gen:
            it.close()


_slot_of = core.current_slot  # core.task_slot while a loop thread runs (check_threads)
_moves = core.guard_moves  # (a foreground loop's guard went up or down: core.settled)
_checks = [False, None]  # check_threads' on, guard_thread's slot_of


def check_threads(on):
    """``timeout()`` finds its task by the calling thread while ``on``: sleep.py's
    ``check_threads``, which ``core.check_threads`` calls. Not ISR-safe."""
    global _slot_of
    _checks[0] = on
    _slot_of = core.task_slot if on else _checks[1] or core.current_slot


def guard_thread(slot_of):
    """``timeout()`` finds its task through ``slot_of`` (sched/loopthread.py's: it refuses a
    thread that is not the loop's) while a foreground loop runs; None ends it. Not
    ISR-safe."""
    global _slot_of
    _checks[1] = slot_of
    _slot_of = core.task_slot if _checks[0] else slot_of or core.current_slot


def _slot_now():  # (the look-up as it is at the call: guard_thread rebinds it)
    return _slot_of()


def timeout(aw, ms):
    """Awaitable: await ``aw`` but give up after ``ms`` milliseconds.

    On time, returns ``aw``'s result. Too late, the inner work is abandoned (``DeadlineExpired``
    is thrown into it, so its ``finally`` blocks run and it leaves any wait list) and
    ``Timeout`` is raised. Call it from a task whose scheduler has a timer (not ISR-safe).
    Allocates nothing when not nested and ``aw`` allocates nothing."""
    if not (hasattr(aw, "__await__") or hasattr(aw, "__next__")):
        raise BadArgument("timeout(aw, ms): aw must be an awaitable, such as a coroutine "
                          "(timeout(work(), 100)) or sleep_ms(50), got %r" % (aw,))
    int_arg(ms, "timeout(aw, ms): ms", "an int of milliseconds")
    n = _moves[0]  # (before the look-up is picked, and again after it)
    slot = _slot_of()  # (raises NoCurrentTask; at the REPL too while a loop thread polls)
    if _moves[0] != n:  # a foreground loop started or ended meanwhile: look again
        slot = core.settled(_slot_now)
    guard = slot.timeout_guard
    if guard is None or guard.busy:
        guard = TimeoutGuard()
        if slot.timeout_guard is None:
            slot.timeout_guard = guard
    guard._prepare(aw, ms)
    return guard


if core.threads_checked[0]:  # (imported while a loop thread or an executor's workers run)
    check_threads(True)
_lt = sys.modules.get("shimeji.sched.loopthread")  # (imported while a foreground loop runs)
if _lt is not None and _lt.guard() is not None:
    guard_thread(_lt.guard())
