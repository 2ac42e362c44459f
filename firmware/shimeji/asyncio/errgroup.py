"""``ExceptionGroup``: what a ``TaskGroup`` raises when its tasks (or its body) fail.

On CPython 3.11+ it is the built-in ``ExceptionGroup``, so ``except*`` and
``except ExceptionGroup`` work as with CPython's asyncio. MicroPython has neither the built-in
nor ``except*``; there it is the stand-in below, an ``Exception`` with the built-in's
``message``, ``exceptions``, ``subgroup()``, ``split()`` and ``derive()``. Code that runs on
both catches it as ``except asyncio.ExceptionGroup as eg:`` and looks at ``eg.exceptions``.
"""

from ..port import EXCEPTION_GROUP


class _ExceptionGroup(Exception):
    """MicroPython's stand-in for CPython's ``ExceptionGroup(message, exceptions)``."""

    # The two arguments are kept in ``args`` (MicroPython cannot call ``Exception.__init__``
    # from a subclass's ``__init__``), and checked where a TaskGroup never errs: by ``_check``.

    @property
    def message(self):
        return self.args[0]

    @property
    def exceptions(self):
        """The exceptions of the group, a tuple, in the order they happened."""
        return self.args[1]

    def __str__(self):
        n = len(self.args[1])
        return "%s (%d sub-exception%s)" % (self.args[0], n, "" if n == 1 else "s")

    def derive(self, excs):
        """A group of ``excs`` with this group's message (as the built-in's)."""
        return exception_group(self.args[0], excs)

    def split(self, condition):
        """``(match, rest)``: groups of the exceptions that match ``condition`` (an exception
        type, a tuple of them, or a predicate) and of the others; None where there are none.
        Nested groups are split too."""
        match = []
        rest = []
        for e in self.args[1]:
            if isinstance(e, _ExceptionGroup):
                m, r = e.split(condition)
                if m is not None:
                    match.append(m)
                if r is not None:
                    rest.append(r)
            elif _matches(e, condition):
                match.append(e)
            else:
                rest.append(e)
        return (self.derive(match) if match else None, self.derive(rest) if rest else None)

    def subgroup(self, condition):
        """The group of the exceptions that match ``condition``, or None (see ``split``)."""
        return self.split(condition)[0]


def _matches(exc, condition):
    if isinstance(condition, type) or isinstance(condition, tuple):
        return isinstance(exc, condition)
    return condition(exc)


def exception_group(message, excs):
    """An ``ExceptionGroup(message, excs)`` of this runtime (the built-in, or the stand-in)."""
    excs = tuple(excs)
    if not excs:
        raise ValueError("ExceptionGroup(message, exceptions): exceptions must be non-empty")
    if EXCEPTION_GROUP is not None:
        return EXCEPTION_GROUP(message, excs)
    return _ExceptionGroup(message, excs)


ExceptionGroup = EXCEPTION_GROUP if EXCEPTION_GROUP is not None else _ExceptionGroup
