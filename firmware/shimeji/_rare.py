"""The error classes only some programs raise: timers and timeouts, the sync primitives, I/O,
tracing, the multi-core executor, a board's features. ``shimeji.errors`` makes them the first
time any of them is used (its ``__getattr__``), so a firmware that only spawns and joins keeps
none of them in its heap. Import them from ``shimeji.errors`` (or ``shimeji``), not from here.
"""

from .errors import PolicyError, SchedulerClosed, ShimejiError

# -- the multi-core executor, policies, boards --------------------------------------------------


class ExecutorClosed(SchedulerClosed):
    """The multi-core executor was closed: its workers' ``run`` return this, spawns are
    refused. Make a new ``Executor`` to start again."""


class WorkerDied(ExecutorClosed):
    """A worker thread's ``run`` ended in an error other than closing (a ``RecursionError``
    from a small thread stack, a ``MemoryError``, a bug): the executor closed itself, and
    ``run`` raises this, chained to that error (``Executor.errors`` records it too)."""


class BadPriority(PolicyError):
    """A priority or nice value outside the range of the scheduler's policy, or not an int."""


class NotOnThisBoard(ShimejiError):
    """A board feature this port does not have (pins, a hardware timer) was asked for; the
    message says what to use instead."""


# -- sync primitives (issue 4) and timers -------------------------------------------------------


class LockNotHeld(ShimejiError):
    """A lock was released by a task (or context) that does not hold it."""


class PrimitiveClosed(ShimejiError):
    """A task waited on, or sent into, a sync primitive that was closed."""


class ChannelClosed(PrimitiveClosed):
    """``send``/``recv`` on a closed channel (``recv`` only once its buffer is drained)."""


class InvalidPermits(ShimejiError):
    """A negative or too large number of permits was given to a ``Semaphore``."""


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
