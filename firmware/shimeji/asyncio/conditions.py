"""CPython's ``Condition``, which MicroPython's asyncio lacks: tasks wait, with a ``Lock``
released, until another task holding it calls ``notify()``.

Each waiter waits on a ``Future`` of its own (futures.py), as CPython's does, so ``notify(n)``
wakes the n oldest in order and a cancelled waiter takes the lock again before its
``CancelledError`` leaves ``wait()``. Not a hot path (a wait allocates a Future). Not ISR-safe.
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
        self._lock.release()
        try:
            fut = Future()
            self._waiters.append(fut)
            try:
                await fut
                return True
            finally:
                self._waiters.remove(fut)
        finally:
            cancelled = None
            while True:  # the lock is taken again even if the task is cancelled meanwhile
                try:
                    await self._lock.acquire()
                    break
                except CancelledError as e:
                    cancelled = e
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
