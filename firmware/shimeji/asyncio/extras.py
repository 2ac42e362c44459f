"""What MicroPython's asyncio lacks and its users ask for: ``Queue``, ``Semaphore``,
``BoundedSemaphore``, ``TaskGroup`` and ``timeout()``, with CPython's API.

``Queue`` waits on two shimeji ``WaitQueue``s, the semaphores are shimeji's ``Semaphore``; so
waiting allocates nothing and a cancelled waiter passes its wake on. Differences from CPython:
``TaskGroup`` raises the first error of its tasks itself (MicroPython has no
``ExceptionGroup``), and ``timeout()`` has no ``reschedule``.
"""

from .. import core
from ..errors import BadArgument
from ..sync.semaphore import Semaphore as _Semaphore
from ..sync.semaphore import _Acquire
from ..sync.semaphore import _check as _check_permits
from ..sync.waitqueue import WaitQueue
from ..time.wheel import TimerEntry
from .loop import create_task, current_task
from .sync import Event, _finish_true
from .task import CancelledError, TimeoutError


class QueueEmpty(Exception):
    """``get_nowait()`` on an empty queue."""


class QueueFull(Exception):
    """``put_nowait()`` on a full queue."""


class Queue:
    """A FIFO queue between tasks; ``maxsize`` <= 0 means unbounded (an int, else
    ``BadArgument``: CPython's would fail later, at a put). Not ISR-safe."""

    def __init__(self, maxsize=0):
        if type(maxsize) is not int:
            raise BadArgument("Queue(maxsize): give an int (0 or less: no bound), got %r"
                              % (maxsize,))
        self.maxsize = maxsize
        self._items = []
        self._getters = WaitQueue()
        self._putters = WaitQueue()
        self._unfinished = 0
        self._all_done = Event()
        self._all_done.set()

    def qsize(self):
        return len(self._items)

    def empty(self):
        return not self._items

    def full(self):
        return 0 < self.maxsize <= len(self._items)

    async def put(self, item):
        """Put ``item``, waiting while the queue is full."""
        while self.full():
            await self._putters.wait()
        self.put_nowait(item)

    def put_nowait(self, item):
        """Put ``item`` now; ``QueueFull`` if there is no room."""
        if self.full():
            raise QueueFull()
        self._items.append(item)
        self._unfinished += 1
        self._all_done.clear()
        self._getters.wake()

    async def get(self):
        """Take the oldest item, waiting while the queue is empty."""
        while not self._items:
            await self._getters.wait()
        return self.get_nowait()

    def get_nowait(self):
        """Take the oldest item now; ``QueueEmpty`` if there is none."""
        if not self._items:
            raise QueueEmpty()
        item = self._items.pop(0)
        self._putters.wake()
        if self._items:
            self._getters.wake()  # more items: pass the turn on (a woken getter may be gone)
        return item

    def task_done(self):
        """Say that an item taken with ``get`` has been processed (for ``join``)."""
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if not self._unfinished:
            self._all_done.set()

    async def join(self):
        """Wait until every item put has been marked ``task_done``."""
        await self._all_done.wait()


class Semaphore(_Semaphore):
    """``value`` permits; ``await sem.acquire()`` (True), ``release()``, ``async with sem``."""

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        _Semaphore.__init__(self, value)
        self._acquire = _AcquireTrue(self, 1)

    def acquire(self, n=1):
        """Awaitable: take ``n`` permits (default one), waiting in FIFO order; returns True.
        Any task may await it (``n`` is the awaitable's: ``acquire(n)`` with ``n`` other than
        1 makes one)."""
        if n == 1 and type(n) is int:
            return self._acquire
        _check_permits(n, "acquire(n)")
        return _AcquireTrue(self, n)

    def release(self, n=1):
        """Give a permit back (ISR-safe)."""
        _Semaphore.release(self, n)

    def locked(self):
        """True if ``acquire()`` would wait."""
        return self._permits == 0 or self._q.head is not None


class _AcquireTrue(_Acquire):
    # The awaitable of Semaphore.acquire(n): ``n`` is set on the task that awaits it, at its
    # first step (shimeji's keeps it on the calling task, so only that task could await it).
    def __init__(self, sem, n):
        _Acquire.__init__(self, sem)
        self.n = n
        self._finish = _finish_true()

    def __next__(self):
        me = core.current_slot()
        if me.wait_phase == 0:
            me.wait_key = self.n
        return _acquire_next(self)


_acquire_next = _Acquire.__next__


class BoundedSemaphore(Semaphore):
    """A ``Semaphore`` that refuses to be released above its initial value."""

    def __init__(self, value=1):
        Semaphore.__init__(self, value)
        self._bound = value

    def release(self, n=1):
        if self._permits + n > self._bound:
            raise ValueError("BoundedSemaphore released too many times")
        Semaphore.release(self, n)


class TaskGroup:
    """``async with TaskGroup() as tg: tg.create_task(coro)``: waits for every task on exit.
    The first task to fail cancels the others, and its exception is raised on exit.
    ``create_task`` raises as CPython's does: ``RuntimeError`` outside the ``async with``,
    ``TypeError`` for what is not a coroutine (the group's other tasks go on)."""

    def __init__(self):
        self._tasks = []
        self._errors = []
        self._entered = False
        self._finished = False

    async def __aenter__(self):
        self._entered = True
        return self

    def create_task(self, coro):
        if not self._entered:
            raise RuntimeError("TaskGroup is finished: create tasks inside its async with"
                               if self._finished else "TaskGroup has not been entered")
        if not hasattr(coro, "send"):
            raise TypeError("TaskGroup.create_task(coro): coroutine expected (call the async "
                            "function), got %r" % (coro,))
        t = create_task(self._run(coro))
        self._tasks.append(t)
        return t

    async def _run(self, coro):
        try:
            return await coro
        except Exception as e:  # recorded, and raised by __aexit__ (not left unretrieved)
            if not self._errors:
                self._abort(current_task())
            self._errors.append(e)

    def _abort(self, keep):
        for t in self._tasks:
            if t is not keep and not t.done():
                t.cancel()

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._abort(None)
        i = 0
        while i < len(self._tasks):  # tasks may add tasks while we wait
            t = self._tasks[i]
            i += 1
            try:
                await t
            except CancelledError:
                if t.done() and t.cancelled():
                    continue
                self._abort(None)  # the group's own task was cancelled
                raise
            except Exception:  # noqa: S112 (recorded in _errors by _run)
                continue
        self._entered = False
        self._finished = True
        if exc_type is None and self._errors:
            raise self._errors[0]
        return False


class _Timeout:
    """The async context manager ``timeout()`` returns."""

    def __init__(self, delay):
        self.delay = delay
        self.expired = False
        self._task = None
        self._entry = TimerEntry(None, self._fire)

    def _fire(self, entry):
        self.expired = True
        self._task.cancel()

    async def __aenter__(self):
        self._task = current_task()
        if self.delay is not None:
            timer = self._task._live_slot().sched.timer
            ms = int(self.delay * 1000)
            if ms <= 0:
                ms = 0
            timer.arm_ms(self._entry, ms)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self._entry.cancel()
        if self.expired and exc_type is not None and issubclass(exc_type, CancelledError):
            raise TimeoutError
        return False


def timeout(delay):
    """``async with timeout(seconds):`` cancels the block after ``delay`` seconds (None: never)
    and raises ``TimeoutError`` in its place. ``TypeError`` for a delay that is not a
    number, as CPython's."""
    if delay is not None and type(delay) is not int and type(delay) is not float:
        raise TypeError("timeout(delay): delay must be a number of seconds (int or float) or "
                        "None, got %r" % (delay,))
    return _Timeout(delay)
