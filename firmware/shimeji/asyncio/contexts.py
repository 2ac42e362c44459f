"""``contextvars`` for the facade's tasks and callbacks, as CPython runs them: each task's
steps run in a ``contextvars.Context`` (a copy of the one current at ``create_task``, or the
``context=`` given), and each ``call_soon``/``call_later``/``call_at`` callback in the context
current when it was scheduled (or its ``context=``), and each done callback in the context
current when it was added (or its ``context=``). ``Task.get_context()`` and
``Handle.get_context()`` return it.

MicroPython has no ``contextvars`` module: there ``copy_context`` is None until
``shimeji.asyncio.contextvars`` (the stand-in: ``import contextvars`` finds it once
``shimeji.asyncio`` is imported, see ``OnUse``) is loaded and calls ``enable``; until then
nothing is wrapped and ``context=`` is accepted and ignored where CPython takes it
(``loop.create_task``, ``TaskGroup.create_task``, ``Runner.run``, the ``call_*`` methods,
``add_done_callback``), and the module's ``create_task`` takes no ``context=`` (an argument
costs every task of that native call, see docs/asyncio.md). After ``enable`` it all runs as on
CPython, through the stand-in's ``Context.run``.

Design note: a task's coroutine is wrapped, not the scheduler changed. On CPython a task's
coroutine is handed to the scheduler as a ``ContextCoro`` whose ``send``/``throw``/``close``
run the coroutine's in ``Context.run``; the scheduler and the facade's awaitables see a
coroutine like any other. MicroPython, whose hot paths are measured, takes this path only
once a program loaded the ``contextvars`` stand-in. Not ISR-safe.
"""

import sys

from ..port import IS_MICROPYTHON

if IS_MICROPYTHON:  # None until the stand-in calls enable()
    copy_context = None
else:
    from contextvars import copy_context


class OnUse:
    """What ``import contextvars`` finds on MicroPython once ``shimeji.asyncio`` is imported:
    its first attribute loads the stand-in (``shimeji.asyncio.contextvars``), which switches
    the contexts on and takes its place in ``sys.modules``. Not ISR-safe."""

    def __getattr__(self, name):
        from . import contextvars

        return getattr(contextvars, name)


def enable(copy_fn, coro_class):
    """Switch the contexts on (MicroPython, from the stand-in's import): ``copy_context``
    becomes ``copy_fn`` here and in the facade's modules loaded already, their
    ``create_task`` the one that takes ``context=``, and tasks' coroutines are wrapped in
    ``coro_class`` (a ``ContextCoro`` whose steps switch the stand-in's context in line).
    Not ISR-safe."""
    global copy_context, _Wrap
    if copy_context is not None:
        return
    copy_context = copy_fn
    _Wrap = coro_class
    loop = sys.modules.get("shimeji.asyncio.loop")
    if loop is None:  # (loop.py, when it loads, finds copy_context set and wraps its own)
        return
    native = loop.create_task
    wrapped = with_contexts(native, loop.as_coro)
    for name in list(sys.modules):
        if name.startswith("shimeji.asyncio"):
            d = sys.modules[name].__dict__
            if d.get("create_task") is native:
                d["create_task"] = wrapped
            if "copy_context" in d:
                d["copy_context"] = copy_fn


class ContextCoro:
    """A task's coroutine whose every step runs in ``context``."""

    def __init__(self, coro, context):
        self.coro = coro
        self.context = context

    def send(self, value):
        return self.context.run(self.coro.send, value)

    def throw(self, *args):
        return self.context.run(self.coro.throw, *args)

    def close(self):
        return self.context.run(self.coro.close)

    def __repr__(self):
        return repr(self.coro)


class ContextCall:
    """A done callback called in ``context``: ``add_done_callback`` stores it."""

    def __init__(self, fn, context):
        self.fn = fn
        self.context = context

    def __call__(self, *args):
        return self.context.run(self.fn, *args)

    def __repr__(self):
        return repr(self.fn)


def in_context_call(fn, context):
    """``fn`` to call in ``context`` (None: a copy of the current one) on CPython; ``fn``
    itself on MicroPython."""
    if copy_context is None:
        return fn
    return ContextCall(fn, copy_context() if context is None else context)


def in_context(coro, context):
    """``(coroutine to schedule, its context)``: on CPython ``coro`` wrapped to run in
    ``context`` (None: a copy of the current one); on MicroPython ``(coro, None)``."""
    if copy_context is None:
        return coro, None
    if context is None:
        context = copy_context()
    elif not hasattr(context, "run"):
        raise TypeError("context=: a contextvars.Context (contextvars.copy_context()) or "
                        "None is expected, got %r" % (context,))
    return _Wrap(coro, context), context


_Wrap = ContextCoro  # (the stand-in's subclass once enabled on MicroPython)


def unwrapped(coro):
    """The coroutine a ``ContextCoro`` runs (``Task.get_coro()``), else ``coro``."""
    return coro.coro if isinstance(coro, ContextCoro) else coro


def handle_context(context):
    """The context a callback scheduled now runs in: ``context``, else a copy of the current
    one (CPython); None on MicroPython."""
    if copy_context is None:
        return None
    return copy_context() if context is None else context


def with_contexts(create_task, as_coro):
    """The module's ``create_task`` on CPython: ``create_task`` (the native one) given the
    coroutine wrapped to run in ``context`` (None: a copy of the current context)."""

    def create_task_in_context(coro, name=None, context=None):
        """Schedule ``coro`` to run concurrently, its steps in ``context`` (None: a copy of
        the current one, as CPython's); returns its ``Task`` (named ``name``)."""
        if not hasattr(coro, "send"):
            coro = as_coro(coro)  # (raises TypeError for what is not awaitable)
        coro, context = in_context(coro, context)
        t = create_task(coro, name)
        t._context = context
        return t

    return create_task_in_context
