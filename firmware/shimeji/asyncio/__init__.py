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

_T = "shimeji.asyncio.task"
_L = "shimeji.asyncio.loop"
_F = "shimeji.asyncio.funcs"
_Y = "shimeji.asyncio.sync"
_X = "shimeji.asyncio.extras"
_S = "shimeji.asyncio.streams"
_G = "shimeji.asyncio.groups"
_E = "shimeji.asyncio.errgroup"
_U = "shimeji.asyncio.futures"
_W = "shimeji.asyncio.waiting"
_H = "shimeji.asyncio.handles"
_C = "shimeji.asyncio.conditions"
_TH = "shimeji.asyncio.threads"
_R = "shimeji.asyncio.runner"
_TS = "shimeji.asyncio.threadsafe"

_names = {
    "Task": _T,
    "CancelledError": _T,
    "TimeoutError": _T,
    "InvalidStateError": _T,
    "Loop": _L,
    "run": _L,
    "create_task": _L,
    "sleep": _L,
    "sleep_ms": _L,
    "current_task": _L,
    "get_event_loop": _L,
    "new_event_loop": _L,
    "set_event_loop": _L,
    "get_running_loop": _L,
    "wait_for": _F,
    "wait_for_ms": _F,
    "gather": _F,
    "Event": _Y,
    "ThreadSafeFlag": _Y,
    "Lock": _Y,
    "Queue": _X,
    "LifoQueue": _X,
    "PriorityQueue": _X,
    "QueueEmpty": _X,
    "QueueFull": _X,
    "Semaphore": _X,
    "BoundedSemaphore": _X,
    "Condition": _C,
    "Barrier": _C,
    "BrokenBarrierError": _C,
    "to_thread": _TH,
    "Runner": _R,
    "run_coroutine_threadsafe": _TS,
    "wrap_future": _TS,
    "ConcurrentFuture": _TS,
    "WouldDeadlock": _TS,
    "TaskGroup": _G,
    "timeout": _G,
    "timeout_at": _G,
    "Timeout": _G,
    "ExceptionGroup": _E,
    "Future": _U,
    "Handle": _H,
    "TimerHandle": _H,
    "isfuture": _U,
    "ensure_future": _W,
    "all_tasks": _W,
    "shield": _W,
    "wait": _W,
    "as_completed": _W,
    "FIRST_COMPLETED": _W,
    "FIRST_EXCEPTION": _W,
    "ALL_COMPLETED": _W,
    "StreamReader": _S,
    "StreamWriter": _S,
    "open_connection": _S,
    "start_server": _S,
    "Server": _S,
    "Stream": _S,
}

__all__ = tuple(_names) + ("run_until_complete",)
__getattr__ = lazy_names("shimeji.asyncio", _names)

if _sys.implementation.name == "micropython" and "contextvars" not in _sys.modules:
    from .contexts import OnUse

    _sys.modules["contextvars"] = OnUse()  # ``import contextvars``: the stand-in, on use
    del OnUse



def run_until_complete(main_task):
    """MicroPython's module-level ``run_until_complete``: run the current loop until
    ``main_task`` (a Task or coroutine) finishes; returns its result."""
    from .loop import get_event_loop

    return get_event_loop().run_until_complete(main_task)
