"""``shimeji.asyncio``: the asyncio API over shimeji's scheduler, timer and primitives.

``import shimeji.asyncio as asyncio`` (or ``from shimeji.asyncio import *``) and run an asyncio
program unchanged. Tasks run in the slots of a ``StaticScheduler`` that grows when its static
slots run out (``get_event_loop().grown`` says by how much), sleeps are timer-wheel entries,
and ``Event``/``Lock``/``ThreadSafeFlag`` are shimeji primitives, so shimeji tasks and asyncio
tasks share one loop. See docs/asyncio.md for what differs from MicroPython's asyncio.

- ``task``: ``Task``, ``CancelledError``, ``TimeoutError``;
- ``facadesched``: ``FacadeScheduler``, the growing scheduler that runs ``Task``s;
- ``loop``: ``run``, ``create_task``, ``sleep``/``sleep_ms``, ``current_task``, ``Loop``;
- ``funcs``: ``wait_for``/``wait_for_ms``, ``gather``;
- ``sync``: ``Event``, ``ThreadSafeFlag``, ``Lock``;
- ``extras``: ``Queue``/``LifoQueue``/``PriorityQueue``, ``Semaphore``/``BoundedSemaphore``;
- ``conditions``: ``Condition``, ``Barrier``;
- ``threads``: ``to_thread`` (and ``loop.run_in_executor(None, ...)``); ``runner``: ``Runner``;
- ``threadsafe``: ``run_coroutine_threadsafe``, ``wrap_future``, ``ConcurrentFuture``;
- ``groups``: ``TaskGroup``, ``timeout()``/``timeout_at()``;
- ``futures``: ``Future``, done callbacks;
- ``handles``: ``call_soon``/``call_soon_threadsafe``/``call_later``/``call_at`` and handles
  (``loopcalls``: the ``Loop`` methods that load it at their first use);
- ``waiting``: ``shield``, ``wait``, ``as_completed``, ``ensure_future``, ``all_tasks``;
- ``errgroup``: ``ExceptionGroup`` (the built-in on CPython 3.11+, a stand-in on MicroPython);
- ``streams``: ``shimeji.io``'s streams, and a ``start_server`` whose tasks are ``Task``s;
- ``contextvars``: CPython's ``contextvars``, or on MicroPython a stand-in (``import
  contextvars`` finds it there once this package is imported; contexts.py).
"""

import sys as _sys

from .._lazy import lazy_names

# (name, module) pairs: a constant tuple, in flash when frozen (_lazy.py; as a dict, with
# __all__ made from it, ~850 B of a 32-bit heap), and __all__ a constant too
# (test_asyncio_facade_imports checks that they agree).
__getattr__ = lazy_names(
    "shimeji.asyncio",
    (
        "Task", "shimeji.asyncio.task",
        "CancelledError", "shimeji.asyncio.task",
        "TimeoutError", "shimeji.asyncio.task",
        "InvalidStateError", "shimeji.asyncio.task",
        "Loop", "shimeji.asyncio.loop",
        "run", "shimeji.asyncio.loop",
        "create_task", "shimeji.asyncio.loop",
        "sleep", "shimeji.asyncio.loop",
        "sleep_ms", "shimeji.asyncio.loop",
        "current_task", "shimeji.asyncio.loop",
        "get_event_loop", "shimeji.asyncio.loop",
        "new_event_loop", "shimeji.asyncio.loop",
        "set_event_loop", "shimeji.asyncio.loop",
        "get_running_loop", "shimeji.asyncio.loop",
        "wait_for", "shimeji.asyncio.funcs",
        "wait_for_ms", "shimeji.asyncio.funcs",
        "gather", "shimeji.asyncio.funcs",
        "Event", "shimeji.asyncio.sync",
        "ThreadSafeFlag", "shimeji.asyncio.sync",
        "Lock", "shimeji.asyncio.sync",
        "Queue", "shimeji.asyncio.extras",
        "LifoQueue", "shimeji.asyncio.extras",
        "PriorityQueue", "shimeji.asyncio.extras",
        "QueueEmpty", "shimeji.asyncio.extras",
        "QueueFull", "shimeji.asyncio.extras",
        "Semaphore", "shimeji.asyncio.extras",
        "BoundedSemaphore", "shimeji.asyncio.extras",
        "Condition", "shimeji.asyncio.conditions",
        "Barrier", "shimeji.asyncio.conditions",
        "BrokenBarrierError", "shimeji.asyncio.conditions",
        "to_thread", "shimeji.asyncio.threads",
        "Runner", "shimeji.asyncio.runner",
        "run_coroutine_threadsafe", "shimeji.asyncio.threadsafe",
        "wrap_future", "shimeji.asyncio.threadsafe",
        "ConcurrentFuture", "shimeji.asyncio.threadsafe",
        "WouldDeadlock", "shimeji.asyncio.threadsafe",
        "TaskGroup", "shimeji.asyncio.groups",
        "timeout", "shimeji.asyncio.groups",
        "timeout_at", "shimeji.asyncio.groups",
        "Timeout", "shimeji.asyncio.groups",
        "ExceptionGroup", "shimeji.asyncio.errgroup",
        "Future", "shimeji.asyncio.futures",
        "Handle", "shimeji.asyncio.handles",
        "TimerHandle", "shimeji.asyncio.handles",
        "isfuture", "shimeji.asyncio.futures",
        "ensure_future", "shimeji.asyncio.waiting",
        "all_tasks", "shimeji.asyncio.waiting",
        "shield", "shimeji.asyncio.waiting",
        "wait", "shimeji.asyncio.waiting",
        "as_completed", "shimeji.asyncio.waiting",
        "FIRST_COMPLETED", "shimeji.asyncio.waiting",
        "FIRST_EXCEPTION", "shimeji.asyncio.waiting",
        "ALL_COMPLETED", "shimeji.asyncio.waiting",
        "StreamReader", "shimeji.asyncio.streams",
        "StreamWriter", "shimeji.asyncio.streams",
        "open_connection", "shimeji.asyncio.streams",
        "start_server", "shimeji.asyncio.streams",
        "Server", "shimeji.asyncio.streams",
        "Stream", "shimeji.asyncio.streams",
    ),
)
__all__ = ("Task", "CancelledError", "TimeoutError", "InvalidStateError", "Loop", "run",
           "create_task", "sleep", "sleep_ms", "current_task", "get_event_loop", "new_event_loop",
           "set_event_loop", "get_running_loop", "wait_for", "wait_for_ms", "gather", "Event",
           "ThreadSafeFlag", "Lock", "Queue", "LifoQueue", "PriorityQueue", "QueueEmpty",
           "QueueFull", "Semaphore", "BoundedSemaphore", "Condition", "Barrier",
           "BrokenBarrierError", "to_thread", "Runner", "run_coroutine_threadsafe", "wrap_future",
           "ConcurrentFuture", "WouldDeadlock", "TaskGroup", "timeout", "timeout_at", "Timeout",
           "ExceptionGroup", "Future", "Handle", "TimerHandle", "isfuture", "ensure_future",
           "all_tasks", "shield", "wait", "as_completed", "FIRST_COMPLETED", "FIRST_EXCEPTION",
           "ALL_COMPLETED", "StreamReader", "StreamWriter", "open_connection", "start_server",
           "Server", "Stream", "run_until_complete")

if _sys.implementation.name == "micropython" and "contextvars" not in _sys.modules:
    from .contexts import OnUse

    _sys.modules["contextvars"] = OnUse()  # ``import contextvars``: the stand-in, on use
    del OnUse



def run_until_complete(main_task):
    """MicroPython's module-level ``run_until_complete``: run the current loop until
    ``main_task`` (a Task or coroutine) finishes; returns its result."""
    from .loop import get_event_loop

    return get_event_loop().run_until_complete(main_task)
