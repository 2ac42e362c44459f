"""CPython 3.11's ``Runner``: ``with asyncio.Runner() as runner: runner.run(coro)`` runs
several top-level coroutines on one loop. Not ISR-safe."""

from .contexts import copy_context
from .loop import _already_running, new_event_loop

_NEW = 0
_INITIALIZED = 1
_CLOSED = 2


class Runner:
    """A context manager owning an event loop; ``run(coro)`` runs ``coro`` on it until it
    completes and returns its result. ``debug`` and ``loop_factory`` are accepted, as in
    CPython (``loop_factory()`` makes the loop if given)."""

    def __init__(self, *, debug=None, loop_factory=None):
        self._state = _NEW
        self._loop = None
        self._loop_factory = loop_factory
        self._context = None  # (CPython) the context run() runs its coroutines in

    def __enter__(self):
        self._lazy_init()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def get_loop(self):
        """The Runner's loop (made at the first use)."""
        self._lazy_init()
        return self._loop

    def run(self, coro, *, context=None):
        """Run ``coro`` on the Runner's loop and return its result. ``ValueError`` for what is
        not a coroutine, ``RuntimeError`` once closed or inside a running loop (CPython's).
        On CPython it runs in ``context``, else in the Runner's one copy of the context it
        was made in (shared by its runs, as CPython's); ignored on MicroPython."""
        if not hasattr(coro, "send"):
            raise ValueError("Runner.run(coro): a coroutine was expected, got %r" % (coro,))
        loop = self.get_loop()
        if copy_context is None:
            return loop.run_until_complete(coro)
        if loop.sched._polling:  # (refused before the coroutine is scheduled, as there)
            raise _already_running()
        return loop.run_until_complete(loop.create_task(
            coro, context=self._context if context is None else context))

    def close(self):
        """Close the Runner (its loop with it). Calling it again does nothing."""
        if self._state == _INITIALIZED:
            self._loop.close()
            self._loop = None
        self._state = _CLOSED

    def _lazy_init(self):
        if self._state == _CLOSED:
            raise RuntimeError("Runner is closed: make a new one")
        if self._state == _INITIALIZED:
            return
        self._loop = new_event_loop() if self._loop_factory is None else self._loop_factory()
        if copy_context is not None:
            self._context = copy_context()
        self._state = _INITIALIZED
