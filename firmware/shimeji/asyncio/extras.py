"""What MicroPython's asyncio lacks and its users ask for: ``Queue`` (and ``LifoQueue``,
``PriorityQueue``), ``Semaphore`` and ``BoundedSemaphore``, with CPython's API (``TaskGroup``
and ``timeout()`` are in groups.py, ``Condition`` in conditions.py).

``Queue`` waits on two shimeji ``WaitQueue``s, the semaphores are shimeji's ``Semaphore``; so
waiting allocates nothing and a cancelled waiter passes its wake on.
"""

from .. import core
from ..errors import BadArgument
from ..sync.semaphore import Semaphore as _Semaphore
from ..sync.semaphore import _Acquire
from ..sync.semaphore import _check as _check_permits
from ..sync.waitqueue import WaitQueue
from .onworkers import refuse_on_worker
from .sync import Event, _finish_true

try:
    from heapq import heappop as _heappop
    from heapq import heappush as _heappush
except ImportError:  # a port built without heapq (PriorityQueue then keeps a sorted list)
    _heappop = None
    _heappush = None


class QueueEmpty(Exception):
    """``get_nowait()`` on an empty queue."""


class QueueFull(Exception):
    """``put_nowait()`` on a full queue."""


_threads = core._threads  # (executor workers registered: core.py)
# A Queue's list and counters are changed with no lock: on an executor worker's thread (in
# parallel with the loop's) its put and get are refused, saying what to use (session 21).
_ON_A_WORKER = ("an asyncio Queue belongs to its loop's thread (its items and counters have "
                "no lock). Between a worker's tasks and other workers' or the loop's, use "
                "shimeji's Channel (await ch.send(item) / await ch.recv(), from any worker); "
                "to hand an item to the loop's queue, loop.call_soon_threadsafe("
                "q.put_nowait, item)")


class Queue:
    """A FIFO queue between tasks; ``maxsize`` <= 0 means unbounded (an int, else
    ``BadArgument``: CPython's would fail later, at a put). Not ISR-safe. On an executor
    worker's thread its ``put``/``get``/``task_done``/``join`` raise ``WrongThread``: use
    shimeji's ``Channel`` there."""

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
        if _threads:
            refuse_on_worker("Queue.put()", _ON_A_WORKER)
        while self.full():
            await self._putters.wait()
        self.put_nowait(item)

    def put_nowait(self, item):
        """Put ``item`` now; ``QueueFull`` if there is no room."""
        if _threads:
            refuse_on_worker("Queue.put_nowait()", _ON_A_WORKER)
        if self.full():
            raise QueueFull()
        self._put(item)
        self._unfinished += 1
        self._all_done.clear()
        self._getters.wake()

    async def get(self):
        """Take the oldest item, waiting while the queue is empty."""
        if _threads:
            refuse_on_worker("Queue.get()", _ON_A_WORKER)
        while not self._items:
            await self._getters.wait()
        return self.get_nowait()

    def get_nowait(self):
        """Take the oldest item now; ``QueueEmpty`` if there is none."""
        if _threads:
            refuse_on_worker("Queue.get_nowait()", _ON_A_WORKER)
        if not self._items:
            raise QueueEmpty()
        item = self._get()
        self._putters.wake()
        if self._items:
            self._getters.wake()  # more items: pass the turn on (a woken getter may be gone)
        return item

    def _put(self, item):
        self._items.append(item)

    def _get(self):
        return self._items.pop(0)

    def task_done(self):
        """Say that an item taken with ``get`` has been processed (for ``join``)."""
        if _threads:
            refuse_on_worker("Queue.task_done()", _ON_A_WORKER)
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if not self._unfinished:
            self._all_done.set()

    async def join(self):
        """Wait until every item put has been marked ``task_done``."""
        if _threads:
            refuse_on_worker("Queue.join()", _ON_A_WORKER)
        await self._all_done.wait()


class LifoQueue(Queue):
    """A ``Queue`` that gives the newest item first."""

    def _get(self):
        return self._items.pop()


class PriorityQueue(Queue):
    """A ``Queue`` that gives the smallest item first (``(priority, data)`` tuples, as
    CPython's; a heap, through ``heapq``)."""

    def _put(self, item):
        if _heappush is not None:
            _heappush(self._items, item)
            return
        items = self._items  # (a port without heapq: kept sorted, oldest first among equals)
        i = len(items)
        while i > 0 and item < items[i - 1]:
            i -= 1
        items.insert(i, item)

    def _get(self):
        if _heappop is not None:
            return _heappop(self._items)
        return self._items.pop(0)


class Semaphore(_Semaphore):
    """``value`` permits; ``await sem.acquire()`` (True), ``release()``, ``async with sem``."""

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        if value is True or value is False:  # CPython's takes a bool as 1 or 0 (shimeji's not)
            value = int(value)
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
