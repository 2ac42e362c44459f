"""Every error shimeji raises derives from ``ShimejiError``.

Messages say what went wrong and what to do about it. ``Cancelled`` is not an error of use:
like asyncio's ``CancelledError`` it derives from ``BaseException`` so that a task's
``except Exception:`` does not swallow a cancellation by accident.
"""


class ShimejiError(Exception):
    """Base class of every error shimeji raises for misuse or an exhausted resource."""


class PoolFull(ShimejiError):
    """No free task slot: every slot of the scheduler's pool holds a live task."""


class SchedulerClosed(ShimejiError):
    """The scheduler was closed; it accepts no new tasks."""


class ExecutorClosed(SchedulerClosed):
    """The multi-core executor was closed: its workers' ``run`` return this, spawns are
    refused. Make a new ``Executor`` to start again."""


class WorkerDied(ExecutorClosed):
    """A worker thread's ``run`` ended in an error other than closing (a ``RecursionError``
    from a small thread stack, a ``MemoryError``, a bug): the executor closed itself, and
    ``run`` raises this, chained to that error (``Executor.errors`` records it too)."""


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


class BadPriority(PolicyError):
    """A priority or nice value outside the range of the scheduler's policy, or not an int."""


# -- sync primitives (issue 4) ------------------------------------------------------------------


class CriticalSectionMisuse(ShimejiError):
    """A critical section was nested too deeply with ``with``, or a blocking lock was taken
    again by the context that already holds it (which would never return)."""


class NoThreads(ShimejiError):
    """Something that needs ``_thread`` (a lock-based section, a thread background) was made
    on a port without it (the qemu port, many boards)."""


class NotOnThisBoard(ShimejiError):
    """A board feature this port does not have (pins, a hardware timer) was asked for; the
    message says what to use instead."""


class LockNotHeld(ShimejiError):
    """A lock was released by a task (or context) that does not hold it."""


class PrimitiveClosed(ShimejiError):
    """A task waited on, or sent into, a sync primitive that was closed."""


class ChannelClosed(PrimitiveClosed):
    """``send``/``recv`` on a closed channel (``recv`` only once its buffer is drained)."""


class InvalidPermits(ShimejiError):
    """A negative or too large number of permits was given to a ``Semaphore``."""


class InvalidCapacity(ShimejiError):
    """A channel or pool was made with a capacity that makes no sense (zero or negative)."""


class WaiterBusy(ShimejiError):
    """A second task tried to wait where only one may (a ``WaitCell``, a ``WaitMap`` key)."""


class NoTimer(ShimejiError):
    """A task used sleep_ms, timeout or Interval on a scheduler that has no timer."""


class DurationTooLong(ShimejiError):
    """A sleep, timeout or timer entry asked for more ticks than the timer can hold."""


class TimerConfigError(ShimejiError):
    """A Timer, Clock or Interval was given a tick or period it cannot count exactly."""


class TimerFull(ShimejiError):
    """A timer wheel had every entry number armed and the heap had no block to grow it: make
    the ``Timer`` with a larger ``capacity`` at start-up. The wheel is unchanged."""


class Timeout(ShimejiError):
    """``timeout(awaitable, ms)`` gave up: the awaited work did not finish in time."""


class DeadlineExpired(BaseException):
    """Thrown into the work a ``timeout()`` abandons; ``timeout()`` turns it into ``Timeout``.

    A ``BaseException`` like ``Cancelled``, so an ``except Exception:`` in that work does not
    swallow it."""


class LockHeldBySelf(ShimejiError):
    """A task tried to lock an async Mutex it already holds, which would wait forever."""


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


class TraceError(ShimejiError):
    """A ``Trace`` was attached twice, or given a value it cannot record."""


# -- I/O readiness and streams (issue 13) -------------------------------------------------------


class NotPollable(ShimejiError):
    """``wait_readable``/``wait_writable`` was given an object ``select.poll`` cannot watch."""


class IOBusy(WaiterBusy):
    """A second task waited for the same object in the same direction as a waiting task."""


class IOFailed(ShimejiError):
    """The object a task waited on reported an error (``POLLERR``) or hung up (``POLLHUP``)."""


class StreamClosed(IOFailed):
    """A closed object was waited on (``POLLNVAL``), or a closed ``Stream`` was used."""


class NoSockets(ShimejiError):
    """A socket was asked for on a port without a ``socket`` module (qemu, boards without
    networking): ``listen``, ``open_connection`` and ``start_server`` need one."""


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
