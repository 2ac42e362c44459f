"""``WatchEntry``: one object the I/O poller watches, and registering it with ``select.poll``.

``IOPoller`` (poller.py) keeps one entry per object, made by ``watch`` on the first wait for
it and kept between waits. This module is that set-up path: the checks that turn what
``select.poll`` refuses into ``NotPollable`` or ``StreamClosed``, and the errors a second
waiter gets. Nothing here is ISR-safe; nothing here runs on a wait for an object seen before.
"""

import select

from micropython import const

from .. import port
from ..errors import IOBusy, NotPollable, StreamClosed

_EOPNOTSUPP = const(95)
_EINVAL = const(22)  # MicroPython: a stream without a poll ioctl (io.BytesIO), at poll time
_NOT_POLLABLE = ("select.poll cannot watch %r (%s): wait on a socket, stream, UART, pipe or "
                 "file descriptor")


class WatchEntry:
    """One watched object: its registered mask and the two waiting tasks."""

    def __init__(self, obj, key):
        self.obj = obj
        self.key = key
        self.mask = 0
        self.reader = None
        self.writer = None
        self.poller = None  # the IOPoller it is registered with; None once dropped


def watch(poll, obj, key):
    """Register ``obj`` with ``poll`` (no events armed yet) and return its new entry. Raises
    ``NotPollable`` if ``select.poll`` cannot watch it, ``StreamClosed`` if it is closed."""
    fileno = getattr(obj, "fileno", None)
    if fileno is not None and port.IS_MICROPYTHON and _fd(fileno) < 0:
        # poll would take a closed MicroPython socket for a descriptor-less stream
        raise StreamClosed("cannot wait on %r: it is closed" % (obj,))
    try:
        if port.IS_MICROPYTHON:
            # A refused register leaves a half-made entry behind that crashes the VM at the
            # next poll (extmod/modselect.c): try it on a throwaway poll first, and poll it
            # once: a stream without a poll ioctl raises only then (and would end the run
            # loop's poll, not this task's wait).
            trial = select.poll()
            trial.register(obj, 0)
            trial.poll(0)
        poll.register(obj, 0)
    except (TypeError, AttributeError) as e:
        raise NotPollable(_NOT_POLLABLE % (obj, e)) from None
    except (ValueError, OSError) as e:
        code = e.args[0] if e.args else None
        if isinstance(e, OSError) and (code == _EOPNOTSUPP or code == _EINVAL
                                       or isinstance(code, str)):
            raise NotPollable(_NOT_POLLABLE % (obj, e)) from None
        raise StreamClosed("cannot wait on %r: it is closed (%s)" % (obj, e)) from None
    return WatchEntry(obj, key)


def _fd(fileno):
    try:
        return fileno()
    except (OSError, ValueError):  # a closed MicroPython file: "I/O operation on closed file"
        return -1


def fileno_of(obj):
    """The descriptor of ``obj`` (the poller's key on CPython). Raises ``NotPollable``."""
    if isinstance(obj, int):
        return obj
    try:
        return obj.fileno()
    except (AttributeError, OSError, ValueError) as e:
        if getattr(obj, "closed", False) is True:  # a closed file (CPython: ValueError)
            raise StreamClosed("cannot wait on %r: it is closed" % (obj,)) from None
        raise NotPollable(_NOT_POLLABLE % (obj, e)) from None


def waiter_busy(slot, obj, what):
    """The ``IOBusy`` for a second task waiting for ``obj`` in the same direction."""
    return IOBusy("task %d (%r) already waits for %r to become %s: one task per object and "
                  "direction; share the object through a Stream owned by one task, or a "
                  "Channel" % (slot.id, slot.name, obj, what))
