"""Every error shimeji raises derives from ``ShimejiError``.

Messages say what went wrong and what to do about it. ``Cancelled`` is not an error of use:
like asyncio's ``CancelledError`` it derives from ``BaseException`` so that a task's
``except Exception:`` does not swallow a cancellation by accident.

The errors a scheduler that spawns and joins may raise are made here; the others (timers,
sync primitives, I/O, tracing, the executor) in ``_rare.py``, the first time any of them is
used: ``from shimeji.errors import Timeout`` works as ever (``__getattr__`` below). Each error
class is a type object and its dict in the heap (~100-150 B on a 32-bit board), which a
firmware that only spawns and joins need not keep.
"""


class ShimejiError(Exception):
    """Base class of every error shimeji raises for misuse or an exhausted resource."""


class PoolFull(ShimejiError):
    """No free task slot: every slot of the scheduler's pool holds a live task."""


class SchedulerClosed(ShimejiError):
    """The scheduler was closed; it accepts no new tasks."""


class NotACoroutine(ShimejiError):
    """spawn() was given something that is not a coroutine object."""


class SlotBusy(ShimejiError):
    """spawn_allocated() was given a slot that still holds a live task."""


class TaskNotComplete(ShimejiError):
    """JoinHandle.result() was called before the task finished."""


class JoinSelf(ShimejiError):
    """A task awaited its own JoinHandle, which would never complete."""


class NoCurrentTask(ShimejiError):
    """A task-only operation was used outside a task running on a scheduler."""


class ForeignAwaitable(ShimejiError):
    """A task awaited something that is not a shimeji awaitable (for example asyncio.sleep)."""


class Cancelled(BaseException):
    """Raised inside a task that was cancelled, and by ``result()`` of a cancelled task."""


class SchedulerBusy(ShimejiError):
    """An operation that needs a scheduler with no live tasks was called with tasks live."""


class PolicyError(ShimejiError):
    """A scheduling policy was configured or used in a way it does not support."""


# -- sync primitives (issue 4) ------------------------------------------------------------------


class CriticalSectionMisuse(ShimejiError):
    """A critical section was nested too deeply with ``with``, or a blocking lock was taken
    again by the context that already holds it (which would never return)."""


class NoThreads(ShimejiError):
    """Something that needs ``_thread`` (a lock-based section, a thread background) was made
    on a port without it (the qemu port, many boards)."""


class InvalidCapacity(ShimejiError):
    """A channel or pool was made with a capacity that makes no sense (zero or negative)."""


class WrongLevel(ShimejiError):
    """A task of one level (thread or interrupt, see docs/preemption.md) was spawned, joined
    or driven from the other level, or an interrupt-level scheduler was ticked by hand."""


class WrongThread(ShimejiError):
    """A call that belongs to another thread's loop: the asyncio facade's task calls
    (``create_task``, ``gather``, ``wait_for``, ``current_task``, a ``Task``'s await or
    cancel) made on an executor worker's thread (docs/executor.md, "Session 20")."""


# -- arguments (issue 12) -----------------------------------------------------------------------
# MicroPython cannot derive a class from two exception classes, so these are not also TypeErrors.


class BadArgument(ShimejiError):
    """An argument of the wrong kind: the message names it and says what is expected."""


class BadDuration(BadArgument):
    """A duration, period or deadline (sleep, timeout, Interval, timer) that is not an int."""


class StaleHandle(ShimejiError):
    """A ``JoinHandle`` used after it was given up (``detach()``): it no longer stands for
    any task."""


def int_arg(value, name, expected, error=BadDuration):
    """``value`` if it is an int (not a bool); else raise ``error`` naming ``name``."""
    if type(value) is not int:
        raise error("%s must be %s, got %r" % (name, expected, value))
    return value


# -- refusals made before they are needed ------------------------------------------------------
# Design note. An error made while a critical section is held allocates inside it (the exception,
# its message): on two RP2040 cores an allocation there waits for the GC's mutex, which core 0 may
# hold while an interrupt of its waits for the section (session 22's deadlock, docs/executor.md);
# with the heap locked (an interrupt handler) the refusal becomes a MemoryError. Where shimeji
# holds the section it decides inside and raises after leaving. A refusal that happens while the
# *caller* holds the section (a spawn from inside it, a lock taken twice) raises an error made
# before: ``premade(cls, message)`` is ``[error, raised]``; the refusal sets ``raised`` and raises
# ``error`` from native code (a native frame adds no traceback entry); ``renew`` replaces a raised
# one where allocating is safe. (MicroPython appends each raise's traceback entries to the error,
# and for a class defined in Python ``__traceback__ = None`` does not empty them: a re-raised
# error would grow by a heap block per raise.) The caller's own bytecode frames that the error
# passes while it still holds the section each add an entry (3 words; skipped on a locked heap).


def premade(cls, message):
    """``[cls(message), False]``: a refusal made now, raised later where nothing may be made
    (see the design note above). Allocates: set-up only."""
    return [cls(message), False]


def renew(made):
    """After a ``premade`` error was raised (``made[1]``), a new one in its place. Allocates:
    only where no critical section is held (on a locked heap it leaves the old one)."""
    if made[1]:
        e = made[0]
        try:
            made[0] = e.__class__(*e.args)
        except MemoryError:  # (a locked heap, an interrupt handler: the next renew makes it)
            return
        made[1] = False


# -- a task's error made on a full heap ---------------------------------------------------------
# Design note. MicroPython makes an exception that finds no heap (a full heap, or a locked one:
# an interrupt handler) in one static object, its "emergency exception", and makes the next
# such exception in the same object: it changes its class and its message. So a task that
# failed with MemoryError on a full heap, kept as its handle's outcome, turned into the
# StopIteration of the next task that ended while the heap was still full (``coro.send``
# makes one per completion): its joiner's ``await`` then ended as if the task had returned
# None, and ``result()`` raised StopIteration. The completion keeps ``kept_error(e)`` instead.


def _emergency_exception():
    """MicroPython's emergency exception object (what an exception made with the heap locked
    is); None on CPython, which has none."""
    import sys

    if sys.implementation.name != "micropython":
        return None
    import micropython

    caught = None
    micropython.heap_lock()
    try:
        raise KeyError  # (made with no heap: the emergency object)
    except KeyError as e:
        caught = e
    finally:
        micropython.heap_unlock()
    return caught


_EMERGENCY = _emergency_exception()
HEAP_FULL = MemoryError(
    "a task failed while the heap was full (or locked: an interrupt handler) and its error "
    "could not be copied out of MicroPython's one emergency exception object, which the next "
    "error made on a full heap reuses: free memory (smaller or fewer allocations in the task, "
    "gc.collect()) and run it again to see its own error")


def kept_error(e):
    """``e``, or where ``e`` is MicroPython's emergency exception object, a copy of it (its
    class and arguments) that no later error can change; ``HEAP_FULL`` when even the copy
    finds no heap. What a task's completion keeps of its error. Allocates only for the
    emergency object (a failure on a full or locked heap). Its frame is small (the copy is
    ``_copied``'s): a completion calls it inside a critical section, where a bytecode frame
    of more than 11 words would come from the heap (py/objfun.c)."""
    if e is not _EMERGENCY or e is None:
        return e
    return _copied(e)


if _EMERGENCY is None:  # CPython (no emergency object): a task's error is kept as it is, but
    # a coroutine run by two tasks (spawned twice, or spawned and awaited) ends the second
    # with CPython's RuntimeError (ValueError while the other runs it): said as what to do.
    # MicroPython cannot tell (docs/sync.md, "Session 26"): its second task ends with None.
    _REUSED = ("cannot reuse already awaited coroutine", "coroutine already executing")

    def kept_error(e):  # noqa: F811 (CPython's: see above)
        if e.__class__ in (RuntimeError, ValueError) and e.args and e.args[0] in _REUSED:
            err = NotACoroutine("this task's coroutine was run by another task too (spawned "
                                "twice, or spawned and awaited): give each task a coroutine "
                                "of its own (call the async function again)")
            err.__cause__ = e
            return err
        return e


def _copied(e):
    cls = e.__class__  # (read first: a failed copy below makes the object a MemoryError)
    try:
        copy = cls(*[("%s" % (a,)) if isinstance(a, str) else a for a in e.args])
    except Exception:  # noqa: BLE001 (no heap for the copy)
        copy = e
    if copy is e:  # (also where making it found no heap: an exception's constructor then
        # returns the emergency object itself, made again, rather than raise)
        HEAP_FULL.__traceback__ = None  # (it is raised again by every joiner)
        return HEAP_FULL
    return copy


def __getattr__(name):
    """The error classes of ``_rare.py``, made the first time one is asked for, every one of
    them copied here then (so the module is loaded once, and its classes are the ones every
    later look-up finds). Not ISR-safe (it imports)."""
    if name[:2] == "__":  # (CPython's import asks for ``__path__``: no reason to load them)
        raise AttributeError("module 'shimeji.errors' has no attribute '%s'" % name)
    rare = __import__("shimeji._rare", None, None, ("*",), 0)
    mine = globals()
    for key, value in rare.__dict__.items():
        if type(value) is type and key not in mine:
            mine[key] = value
    if name in mine:
        return mine[name]
    raise AttributeError("module 'shimeji.errors' has no attribute '%s'" % name)
