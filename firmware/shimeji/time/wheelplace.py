"""The wheel's cascade in viper (``TimerWheel`` calls it; not public API).

``cascade``: every entry of a far slot that ``now`` reached moves to a lower level in one pass,
with ``arm_after``'s placement written in line. Viper: its integer operations are machine
instructions (in native code each is a runtime call), and the wheel's occupancy bitmaps and
level counts, in the wheel's flat array, are read and written as machine words through
``ptr32``. (``sleep_ms`` writes the same placement out for its task's entry, in sleep.py.)
"""

import micropython
from micropython import const

from .. import port

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_NOW = const(26)
_W_RAG = const(33)
_NIL = None  # (viper compares objects with an object None)


@micropython.viper
def cascade(self, pos: int, level: int):
    """Move every entry of the far slot ``pos`` that ``now`` just reached to a lower
    level, in one pass with ``arm_after``'s placement in line (their deadlines lie in
    ``now``'s span, after it); entries due at ``now`` itself stay, in order. Viper: the
    placement's integer operations and the bitmap and count arrays are machine words."""
    nil = _NIL
    head = self._head
    tails = self._tail
    ws = ptr32(self._w)
    now = ws[_W_NOW]
    e = head[pos]
    kept = nil
    kept_tail = nil
    moved = 0
    while e is not nil:
        nxt = e.next
        d = int(e.deadline)
        if d == now:
            e.prev = kept_tail
            if kept_tail is nil:
                kept = e
            else:
                kept_tail.next = e
            kept_tail = e
            e = nxt
            continue
        if nxt is not nil:
            e.next = nil
        x = now ^ d
        if x < 0x40:
            lv = 0
            p = d & 63
        elif x < 0x1000:
            lv = 1
            p = 64 | ((d >> 6) & 63)
            if d & 63:  # not on the slot's start: it must cascade (TimerWheel.__init__)
                ws[_W_RAG + ((d >> 10) & 3)] |= 1 << ((d >> 6) & 15)
        elif x < 0x40000:
            lv = 2
            p = 128 | ((d >> 12) & 63)
        else:
            lv = 3
            p = 192 | ((d >> 18) & 63)
        e.pos = p
        tail = tails[p]
        e.prev = tail
        if tail is nil:
            head[p] = e
            ws[p >> 4] |= 1 << (p & 15)
        else:
            tail.next = e
        tails[p] = e
        ws[_W_COUNT + lv] += 1
        moved += 1
        e = nxt
    if kept_tail is not nil:
        kept_tail.next = nil
    head[pos] = kept
    tails[pos] = kept_tail
    ws[_W_COUNT + level] -= moved
