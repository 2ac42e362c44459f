"""``TimerEntry``: one deadline, linked in place into a ``TimerWheel`` (wheel.py).

An entry holds its wheel, its list index there (``pos``), its deadline and the ``prev``/``next``
links of its slot's FIFO list: arming links it (``TimerWheel.arm_after``), ``cancel`` unlinks it,
in O(1) and without allocating. Make entries up front (a task slot embeds one).
"""

import micropython
from micropython import const

from ..errors import BadArgument, int_arg

_DUE = const(320)  # TimerWheel's list index of the due entries (wheel.py)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_RAG = const(33)


class TimerEntry:
    """One pending deadline, linked in place into a wheel. Make entries up front.

    When it fires, ``callback(entry)`` is called if set, else the task in ``slot`` is woken.
    """

    def __init__(self, slot=None, callback=None):
        self.slot = slot
        self.callback = callback
        self.wheel = None  # the wheel it is armed on
        self.pos = -1  # list index in the wheel; -1 when not armed
        self.deadline = 0
        self.next = None
        self.prev = None
        self.key = 0  # free for the owner (timeout() keeps a task id here)

    def is_armed(self):
        """True until it fires or is cancelled. ISR-safe (reads one field)."""
        return self.pos >= 0

    @micropython.native
    def cancel(self):
        """Disarm; True if it was armed. O(1), allocation-free, a no-op when not armed.
        Not ISR-safe: call it from the run loop or a task."""
        pos = self.pos
        if pos < 0:
            return False
        w = self.wheel
        ws = w._w
        prev = self.prev
        nxt = self.next
        if prev is None:
            w._head[pos] = nxt
            if nxt is None:
                w._tail[pos] = None
                if pos < _DUE:
                    ws[pos >> 4] &= ~(1 << (pos & 15))  # the slot's occupancy bit
                    if 64 <= pos < 128:  # and level 1's ragged bit
                        ws[_W_RAG + ((pos >> 4) & 3)] &= ~(1 << (pos & 15))
            else:
                nxt.prev = None
                self.next = None
        else:
            prev.next = nxt
            self.prev = None
            if nxt is None:
                w._tail[pos] = prev
            else:
                nxt.prev = prev
                self.next = None
        ws[_W_COUNT + (pos >> 6)] -= 1
        ws[_W_PENDING] -= 1
        ws[_W_NEXT] = -1
        self.pos = -1
        self.wheel = None
        return True


def check_arm(entry, value, name, expected):
    """Raise ``BadArgument`` unless ``entry`` is a ``TimerEntry`` and ``value`` an int: the
    slow half of the ``arm*`` methods' argument checks."""
    if not isinstance(entry, TimerEntry):
        raise BadArgument("the entry to arm must be a TimerEntry (make it once: "
                          "TimerEntry(callback=f)), got %r" % (entry,))
    int_arg(value, name, expected)
