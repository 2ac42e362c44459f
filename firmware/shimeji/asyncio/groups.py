"""CPython's ``TaskGroup``, ``timeout()`` and ``timeout_at()``, which MicroPython's asyncio lacks.

The rules are CPython's: the first task to fail cancels the others and the task running the
``async with`` body (the body's ``await`` is interrupted, and that ``CancelledError`` does not
leave the block); on exit the errors of the tasks, then the body's own, are raised together as
an ``ExceptionGroup`` (the built-in on CPython 3.11+, the stand-in of errgroup.py on
MicroPython); a cancellation of that task from outside cancels the group's tasks, waits for
them, and goes on as ``CancelledError``. A failed task keeps its exception
(``task.exception()``), and is not reported to the loop's exception handler: the group
retrieves it.

Design note: telling the group's own cancellation from a child's. Awaiting a ``Task`` forwards
a cancel of the awaiting task to the awaited one (MicroPython's rule, kept by ``Task``), so a
group awaiting its children could not tell "my task was cancelled" from "that child was
cancelled". ``__aexit__`` joins its children through ``_Join`` (shimeji's join: nothing
forwarded), so a cancellation arrives in the group's own task, and the exception instance
says whose it is.
"""

from ..core import yield_now
from ..task.slot import _value_of
from ..time.wheel import TimerEntry
from .contexts import copy_context
from .errgroup import exception_group
from .loop import as_coro, create_task, current_task, get_event_loop
from .task import _WAITED, CancelledError, TimeoutError, _gathered, _gathers, _Join


class TaskGroup:
    """``async with TaskGroup() as tg: tg.create_task(coro)``: waits for every task on exit.
    The first task to fail cancels the others (and the body's task); on exit the tasks'
    errors (then the body's, if it raised one) are raised as one ``ExceptionGroup``.
    ``create_task`` raises as CPython's does: ``RuntimeError`` outside the
    ``async with`` or once the group is shutting down, ``TypeError`` for what is not a
    coroutine (the group's other tasks go on). Not ISR-safe."""

    def __init__(self):
        self._tasks = []
        self._errors = []
        self._entered = False
        self._finished = False
        self._exiting = False
        self._parent = None
        self._cancel_sent = False  # the group cancelled its body's task (a child failed)

    async def __aenter__(self):
        if self._entered or self._finished:
            raise RuntimeError("TaskGroup has already been entered: make a new one")
        self._entered = True
        self._parent = current_task()
        return self

    def create_task(self, coro, name=None, context=None):
        if not self._entered:
            raise RuntimeError("TaskGroup is finished: create tasks inside its async with"
                               if self._finished else "TaskGroup has not been entered")
        if not hasattr(coro, "send"):
            try:
                coro = as_coro(coro)  # (sleep(0), Event.wait(): CPython's are coroutines)
            except TypeError:
                raise TypeError("TaskGroup.create_task(coro): coroutine expected (call the "
                                "async function), got %r" % (coro,)) from None
        if self._errors:
            coro.close()
            raise RuntimeError("TaskGroup is shutting down (a task failed): no new tasks")
        if context is not None and copy_context is not None:  # (MicroPython: no contextvars)
            t = create_task(self._run(coro), name, context=context)
        else:
            t = create_task(self._run(coro), name)
        self._tasks.append(t)
        return t

    async def _run(self, coro):
        try:
            return await coro
        except Exception as e:  # recorded, raised by __aexit__ in the group, and kept by the task
            try:  # CPython's group hears of it by a done callback, run after the tasks
                await yield_now()  # runnable now (woken with this one): they run first
            except CancelledError:
                pass  # another's failure aborted the group meanwhile: this one failed first
            self._errors.append(e)
            me = current_task()
            if me.state is True and not (_gathers and _gathered(me)):
                me.state = _WAITED  # retrieved by the group: no report to the handler
            if len(self._errors) == 1:
                self._abort(me)
                if not self._exiting:  # the body still runs: interrupt it (CPython's rule)
                    self._cancel_sent = True
                    self._parent.cancel()
            raise e  # the task's own outcome: task.exception() is ``e``

    def _abort(self, keep):
        for t in self._tasks:
            if t is not keep and not t.done():
                t.cancel()

    def _own_cancel(self):
        # A CancelledError in the body's task: True if it is the one the group sent and no
        # other cancel of that task is pending (CPython 3.11's rule: ``uncancel()`` gives 0).
        if self._cancel_sent:
            self._cancel_sent = False
            return _uncancel(self._parent) == 0
        return False

    async def __aexit__(self, exc_type, exc, tb):
        self._exiting = True
        cancelled = False  # the body's task was cancelled from outside
        if exc_type is not None:
            if issubclass(exc_type, CancelledError) and not self._own_cancel():
                cancelled = True
            self._abort(None)
        i = 0
        while i < len(self._tasks):  # tasks may add tasks while we wait
            t = self._tasks[i]
            if t.done():
                i += 1
                continue
            try:
                await _Join(t)
            except CancelledError as e:
                if t.done() and e is _value_of(t._ref):
                    continue  # the child was cancelled
                if not self._own_cancel():
                    cancelled = True
                self._abort(None)
            except Exception:  # noqa: S112 (recorded in _errors by _run)
                continue
        self._entered = False
        self._finished = True
        if self._cancel_sent:  # sent, but the body caught it: the request is taken back
            self._cancel_sent = False
            _uncancel(self._parent)
        if exc_type is not None and not issubclass(exc_type, Exception) and not issubclass(
                exc_type, CancelledError):
            return False  # KeyboardInterrupt, SystemExit...: goes on as it is (CPython's rule)
        errors = self._errors
        if exc_type is not None and not issubclass(exc_type, CancelledError):
            errors = errors + [exc]  # the body's own error, after the tasks' (CPython's order)
        if errors:
            self._errors = []
            raise exception_group("unhandled errors in a TaskGroup", errors) from None
        if cancelled:
            if exc_type is not None and issubclass(exc_type, CancelledError):
                return False  # the body's CancelledError goes on
            raise CancelledError
        if exc_type is not None and issubclass(exc_type, CancelledError):
            return True  # the group's own cancel of the body (no error left to raise)
        return False


class Timeout:
    """The async context manager ``timeout()``/``timeout_at()`` return: cancels the task
    running the block at the deadline and raises ``TimeoutError`` in its place. ``when()``,
    ``reschedule(when)`` and ``expired()`` as in CPython (``when`` in ``loop.time()``
    seconds, or None: never). Not ISR-safe."""

    def __init__(self, when, at=None):
        self._when = when
        self._at = at  # the deadline in ints (_at_of): (a tick, µs after it); None: from when
        self._expired = False
        self._task = None
        self._cancelling = 0  # the task's cancelling() when the block was entered
        self._state = 0  # 0 made, 1 inside the block, 2 left
        self._entry = TimerEntry(None, self._fire)

    def when(self):
        return self._when

    def expired(self):
        """True if the deadline passed and the block was cancelled."""
        return self._expired

    def reschedule(self, when):
        """Move the deadline to ``when`` (``loop.time()`` seconds, or None: never)."""
        if self._state != 1:
            raise RuntimeError("Timeout.reschedule(): only inside its async with block")
        _check_when(when, "Timeout.reschedule(when)")
        self._when = when
        self._at = None
        self._entry.cancel()
        self._arm()

    def _arm(self):
        if self._when is None:
            return
        timer = get_event_loop().timer
        if self._at is None:
            self._at = _at_of(timer, self._when)
        base, us = self._at
        tick_us = timer.tick_us
        # The deadline as a tick of loop.time()'s clock, armed at that tick: blocks given one
        # ``when`` share it whenever each is entered. (A delay from now, rounded to whole ms
        # and then to the slack grid, gave the inner of two nested blocks a later tick when
        # the clock moved between the two: the outer one fired alone.) loop.time() reads the
        # tick the clock is in, so ``when`` counts from that tick's end, as a sleep armed in
        # it does (never early, never before a sleep of the same delay armed before it), then
        # goes up to the slack grid sleep_ms uses (docs/timer.md). In ints: exact at any tick
        # and across the wrap (in floats, single precision on the ESP32 put a tick near 2**30
        # up to ~64 ticks off, early as well as late).
        tick = base + (2 * us + tick_us) // (2 * tick_us) + 1  # when's tick, rounded, + 1
        left = (base - timer.now()) & _MASK  # (ticks from now to base: base may have wrapped)
        if left > _HALF:
            left -= _MASK + 1
        left = left * tick_us + us  # µs from now to when
        mask = timer.slack_mask((left + 999) // 1000) if left > 0 else 0
        timer.arm_at(self._entry, (tick + mask) & ~mask & _MASK)

    def _fire(self, entry):
        if self._state == 1:
            self._expired = True
            self._task.cancel()

    async def __aenter__(self):
        if self._state:
            raise RuntimeError("Timeout has already been entered: make a new one")
        self._task = current_task()
        self._cancelling = _cancelling(self._task)
        self._state = 1
        self._arm()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self._entry.cancel()
        self._state = 2
        if self._expired:  # its cancel is taken back; another one (from outside) goes on
            if (_uncancel(self._task) <= self._cancelling and exc_type is not None
                    and issubclass(exc_type, CancelledError)):
                raise TimeoutError
        return False


_MASK = 0x3FFFFFFF  # (loop.time() wraps as the ticks do)
_HALF = _MASK >> 1


def _at_of(timer, when):
    # ``when`` (loop.time() seconds) as (the tick the clock is in, the µs from that tick's
    # start to when): a float difference of two close numbers, then ints
    now = timer.now()
    return now, int(round((when - now * timer.tick_us / 1000000) * 1000000))


def _cancelling(task):
    return getattr(task, "_cancels", 0)  # (a shimeji task's JoinHandle counts none)


def _uncancel(task):
    return task.uncancel() if hasattr(task, "uncancel") else 0


def _check_when(when, what):
    if when is not None and type(when) is not int and type(when) is not float:
        raise TypeError("%s: %s must be a number of seconds (int or float) or None, got %r"
                        % (what, what[what.index("(") + 1:-1], when))


def timeout(delay):
    """``async with timeout(seconds):`` cancels the block after ``delay`` seconds (None: never)
    and raises ``TimeoutError`` in its place. ``TypeError`` for a delay that is not a
    number, as CPython's."""
    _check_when(delay, "timeout(delay)")
    if delay is None:
        return Timeout(None)
    timer = get_event_loop().timer
    now = timer.now()  # (the deadline kept in ints from this tick: exact, see _arm)
    return Timeout(now * timer.tick_us / 1000000 + delay, (now, int(round(delay * 1000000))))


def timeout_at(when):
    """``timeout()`` with an absolute deadline in ``loop.time()`` seconds (None: never)."""
    _check_when(when, "timeout_at(when)")
    return Timeout(when)
