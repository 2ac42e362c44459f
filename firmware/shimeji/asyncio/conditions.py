"""CPython's ``Condition`` and ``Barrier``, which MicroPython's asyncio lacks: tasks wait, with
a ``Lock`` released, until another task holding it calls ``notify()``; a ``Barrier`` lets
``parties`` tasks go together.

Each waiter waits on a ``Future`` of its own (futures.py), as CPython's does, so ``notify(n)``
wakes the n oldest in order and a cancelled waiter takes the lock again before its
``CancelledError`` leaves ``wait()``. Not a hot path (a wait allocates a Future). Not ISR-safe.
The waiters' list is changed only with the lock held (a waiter leaves it after it has taken
the lock again), so tasks of an executor's workers and of the loop may share a ``Condition``:
its lock is shimeji's ``Mutex``, its Futures work between threads (session 21).
"""

from .futures import Future
from .sync import Lock
from .task import CancelledError


class Condition:
    """``async with cond: await cond.wait()`` / ``cond.notify(n)`` / ``cond.notify_all()``,
    on ``lock`` (a ``Lock``, made if not given). ``wait()`` and ``notify()`` without the lock
    held raise ``RuntimeError``, as CPython's."""

    def __init__(self, lock=None):
        self._lock = Lock() if lock is None else lock
        self._waiters = []

    def locked(self):
        return self._lock.locked()

    def acquire(self):
        """Awaitable: take the lock; returns True."""
        return self._lock.acquire()

    def release(self):
        self._lock.release()

    async def __aenter__(self):
        await self._lock.acquire()

    async def __aexit__(self, exc_type, exc, tb):
        self._lock.release()
        return False

    async def wait(self):
        """Release the lock, wait for a ``notify()``, take the lock again; returns True."""
        if not self._lock.locked():
            raise RuntimeError("Condition.wait(): take the lock first (async with cond:)")
        fut = Future()
        self._waiters.append(fut)  # (under the lock, as notify's walk)
        self._lock.release()
        try:
            await fut
            return True
        finally:
            cancelled = None
            while True:  # the lock is taken again even if the task is cancelled meanwhile
                try:
                    await self._lock.acquire()
                    break
                except CancelledError as e:
                    cancelled = e
            self._waiters.remove(fut)  # under the lock again: no notify walks the list now
            if cancelled is not None:
                raise cancelled

    async def wait_for(self, predicate):
        """``wait()`` until ``predicate()`` is true; returns its value."""
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n=1):
        """Wake up to ``n`` waiting tasks (the oldest first). The lock must be held."""
        if not self._lock.locked():
            raise RuntimeError("Condition.notify(): take the lock first (async with cond:)")
        woken = 0
        for fut in self._waiters:
            if woken >= n:
                break
            if not fut.done():
                woken += 1
                fut.set_result(False)

    def notify_all(self):
        """Wake every waiting task. The lock must be held."""
        self.notify(len(self._waiters))


class BrokenBarrierError(RuntimeError):
    """A ``Barrier`` was aborted or reset while a task waited on it (CPython's)."""


_FILLING = 0
_DRAINING = 1
_RESETTING = 2
_BROKEN = 3


class Barrier:
    """CPython 3.11's ``Barrier(parties)``: ``await barrier.wait()`` returns once ``parties``
    tasks wait, each with its index (0 .. parties - 1); ``reset()``, ``abort()``,
    ``async with barrier``. Built on a ``Condition``, as CPython's. Not ISR-safe."""

    def __init__(self, parties):
        if type(parties) is not int or parties < 1:
            raise ValueError("Barrier(parties): parties must be an int > 0, got %r"
                             % (parties,))
        self._cond = Condition()
        self._parties = parties
        self._state = _FILLING
        self._count = 0

    async def __aenter__(self):
        return await self.wait()

    async def __aexit__(self, exc_type, exc, tb):
        return False

    async def wait(self):
        """Wait until ``parties`` tasks wait; returns this task's index."""
        async with self._cond:
            await self._block()
            try:
                index = self._count
                self._count += 1
                if index + 1 == self._parties:
                    self._state = _DRAINING  # the last one lets every waiter go
                    self._cond.notify_all()
                else:
                    await self._wait()
                return index
            finally:
                self._count -= 1
                self._exit()

    async def _block(self):
        # Wait while the barrier drains or resets.
        await self._cond.wait_for(lambda: self._state != _DRAINING and
                                  self._state != _RESETTING)
        if self._state == _BROKEN:
            raise BrokenBarrierError("Barrier aborted")

    async def _wait(self):
        await self._cond.wait_for(lambda: self._state != _FILLING)
        if self._state == _BROKEN or self._state == _RESETTING:
            raise BrokenBarrierError("Abort or reset of barrier")

    def _exit(self):
        if self._count == 0:
            if self._state == _RESETTING or self._state == _DRAINING:
                self._state = _FILLING
            self._cond.notify_all()

    async def reset(self):
        """Back to the empty state; tasks waiting get ``BrokenBarrierError``."""
        async with self._cond:
            if self._count > 0:
                self._state = _RESETTING
            else:
                self._state = _FILLING
            self._cond.notify_all()

    async def abort(self):
        """Break the barrier: waiting and later ``wait()`` calls raise ``BrokenBarrierError``."""
        async with self._cond:
            self._state = _BROKEN
            self._cond.notify_all()

    @property
    def parties(self):
        return self._parties

    @property
    def n_waiting(self):
        """Tasks waiting now (0 while the barrier drains)."""
        return self._count if self._state == _FILLING else 0

    @property
    def broken(self):
        return self._state == _BROKEN
