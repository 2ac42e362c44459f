"""``contextvars`` for asyncio programs on MicroPython (which has no such module): ``ContextVar``
(``get``/``set``/``reset``), ``Token``, ``Context`` (``run``, ``copy``, the mapping methods)
and ``copy_context``, as CPython's; on CPython this module is CPython's own ``contextvars``.

``import shimeji.asyncio`` makes ``import contextvars`` find this module on MicroPython (a
stand-in in ``sys.modules`` that loads it at its first attribute, unless a ``contextvars`` is
there already), so the same program runs on both. Loading it switches the facade's contexts
on (``contexts.enable``): from then on each task created runs its steps in a copy of the
context current at ``create_task`` (or its ``context=``), each ``call_soon``/``call_later``
callback and done callback in the context current when it was scheduled, as on CPython. A
program that never loads it pays nothing: its tasks are not wrapped.

What differs from CPython: one current context for the whole interpreter, not one per thread
(a thread of your own that sets a variable while a loop runs sets it in the loop's current
context); tasks created before this module was loaded run in whichever context is current
(the root one, outside the wrapped tasks); a ``Context`` is a plain mapping copied by
``copy_context`` (O(variables set), not CPython's O(1) HAMT).

Design note: ``Context`` holds a dict; the current one is ``_current[0]``. ``ContextVar.set``
writes into the current dict, which only that context's code sees, so a copy made before is
unaffected, as with CPython's immutable mappings. Not ISR-safe (none of it: contexts are a
task's, and ``set`` may allocate).
"""

import sys

import micropython

from ..port import IS_MICROPYTHON

if not IS_MICROPYTHON:
    from contextvars import Context, ContextVar, Token, copy_context  # noqa: F401
else:
    _MISSING = object()

    class _Missing:
        """``Token.MISSING``: the old value of a variable that had none."""

        def __repr__(self):
            return "<Token.MISSING>"

    MISSING = _Missing()

    class Context:
        """A mapping of ``ContextVar`` to value; ``run(fn, *args)`` calls ``fn`` in it."""

        def __init__(self):
            self._vars = {}
            self._entered = False

        def run(self, fn, *args, **kwargs):
            """Call ``fn(*args, **kwargs)`` with this context current; ``RuntimeError`` if it
            is current already (on any level), as CPython's."""
            if self._entered:
                raise RuntimeError("cannot enter context: %r is already entered" % (self,))
            cur = _current[0]
            self._entered = True
            _current[0] = self
            try:
                return fn(*args, **kwargs)
            finally:
                _current[0] = cur
                self._entered = False

        def copy(self):
            """A new ``Context`` with the same variables and values."""
            c = Context()
            c._vars = self._vars.copy()
            return c

        def __getitem__(self, var):
            if type(var) is not ContextVar:
                raise TypeError("a ContextVar key was expected, got %r" % (var,))
            return self._vars[var]

        def get(self, var, default=None):
            """The value of ``var`` in this context, else ``default``."""
            return self._vars.get(var, default)

        def __contains__(self, var):
            return var in self._vars

        def __iter__(self):
            return iter(self._vars)

        def __len__(self):
            return len(self._vars)

        def keys(self):
            return self._vars.keys()

        def values(self):
            return self._vars.values()

        def items(self):
            return self._vars.items()

    _current = [Context()]

    def copy_context():
        """A copy of the current context (what a task created now runs in)."""
        return _current[0].copy()

    class Token:
        """What ``ContextVar.set`` returns: ``var.reset(token)`` restores the value before."""

        MISSING = MISSING

        def __init__(self, ctx, var, old):
            self._ctx = ctx
            self._var = var
            self._old = old
            self._used = False

        @property
        def var(self):
            return self._var

        @property
        def old_value(self):
            return self._old

        def __repr__(self):
            return "<Token%s var=%r>" % (" used" if self._used else "", self._var)

    class ContextVar:
        """A context variable: ``ContextVar(name, default=...)``; ``get``, ``set``,
        ``reset``."""

        def __init__(self, name, *, default=_MISSING):
            if type(name) is not str:
                raise TypeError("context variable name must be a str")
            self._name = name
            self._default = default

        @property
        def name(self):
            return self._name

        def get(self, *args):
            """The value in the current context, else ``get``'s default argument, else the
            variable's default; ``LookupError`` if there is none."""
            v = _current[0]._vars.get(self, _MISSING)
            if v is not _MISSING:
                return v
            if args:
                return args[0]
            if self._default is not _MISSING:
                return self._default
            raise LookupError(self)

        def set(self, value):
            """Set the value in the current context; returns a ``Token`` for ``reset``."""
            ctx = _current[0]
            old = ctx._vars.get(self, MISSING)
            ctx._vars[self] = value
            return Token(ctx, self, old)

        def reset(self, token):
            """Restore the value ``token``'s ``set`` replaced. ``ValueError`` for a token of
            another variable or context, ``RuntimeError`` for one used already."""
            if type(token) is not Token:
                raise TypeError("a Token was expected, got %r" % (token,))
            if token._used:
                raise RuntimeError("%r has already been used once" % (token,))
            if token._var is not self:
                raise ValueError("%r was created by a different ContextVar" % (token,))
            ctx = _current[0]
            if token._ctx is not ctx:
                raise ValueError("%r was created in a different Context" % (token,))
            if token._old is MISSING:
                ctx._vars.pop(self, None)
            else:
                ctx._vars[self] = token._old
            token._used = True

        def __repr__(self):
            d = "" if self._default is _MISSING else " default=%r" % (self._default,)
            return "<ContextVar name=%r%s>" % (self._name, d)

    from .contexts import ContextCoro, OnUse, enable

    class _InContext(ContextCoro):
        """A task's coroutine whose steps run in ``context``: ``Context.run`` in line (the
        facade's wrapper on MicroPython; a step is a call less)."""

        @micropython.native  # (as bytecode its frame, with the try, is a heap block per call)
        def send(self, value):
            ctx = self.context
            if ctx._entered:
                ctx.run(None)  # (raises RuntimeError: entered already)
            cur = _current[0]
            ctx._entered = True
            _current[0] = ctx
            try:
                return self.coro.send(value)
            finally:
                _current[0] = cur
                ctx._entered = False

    if type(sys.modules.get("contextvars")) is OnUse:  # (the stand-in made this module load)
        sys.modules["contextvars"] = sys.modules[__name__]
    enable(copy_context, _InContext)
