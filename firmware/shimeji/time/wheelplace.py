"""The wheel's advance and cascade in viper (``TimerWheel`` calls them; not public API).

``advance_due``: ``TimerWheel.advance`` once an entry is known to be due (``Timer.turn``
calls it so), stepping from occupied slot to occupied slot; a slot of task entries all due
at once (level 0, or a level-1 slot on the slack's grid) is handed off in one call.

``cascade``: every entry of a far slot that ``now`` reached moves to a lower level in one pass,
with ``arm_after``'s placement written in line. Viper: its integer operations are machine
instructions (in native code each is a runtime call), and the wheel's occupancy bitmaps and
level counts, in the wheel's flat array, are read and written as machine words through
``ptr32``. (``sleep_ms`` writes the same placement out for its task's entry, in sleep.py.)
"""

import micropython
from micropython import const

from .. import port
from .wheelpass import hand_off, step

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

_MASK = const(0x3FFFFFFF)
_LEVELS = const(5)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_NOW = const(26)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_LAG = const(30)
_W_RESUME = const(31)
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


@micropython.viper
def advance_due(self, n: int) -> int:
    """``advance(n)`` without its first look for an idle timer: for a caller that knows an
    entry is due by then (``Timer.turn``), or that a callback raised part-way. Returns how
    many fired. Viper: the wheel's integers are machine words (a -1 stored in them reads as
    2**32 - 1 on a 64-bit machine: "unset" is any value outside [0, 2**30))."""
    nil = _NIL
    ws = ptr32(self._w)
    head = self._head
    ws[_W_NEXT] = -1
    n += ws[_W_LAG]
    ws[_W_LAG] = n
    fired = 0
    rs = ws[_W_RESUME]
    if rs >= 0 and rs <= _MASK:  # a callback raised while that slot was being emptied
        fired += int(self._drain(rs))
    if ws[_W_COUNT + _LEVELS]:
        fired += int(self._take_due())
    gap = -1
    while n > 0:
        gap = int(step(self))
        if gap < 0 or gap > n:
            break
        n -= gap
        ws[_W_LAG] = n
        x = ws[_W_NOW] - _MASK + gap  # wrap_add, inlined
        if x > 0:
            ws[_W_NOW] = x - 1
        else:
            ws[_W_NOW] = x + _MASK
        pos = ws[_W_STEP]
        # A level-0 slot, or a level-1 slot of entries all due at its start (not ragged):
        # hand its tasks over here (_drain's first step), no cascade.
        if pos < 64 or (pos < 128 and not ((ws[_W_RAG + ((pos >> 4) & 3)] >> (pos & 15)) & 1)):
            fired += int(hand_off(self, pos, pos >> 6))
            if head[pos] is nil:  # no callback entries left: the slot is empty
                ws[pos >> 4] = ws[pos >> 4] & (0xFFFF ^ (1 << (pos & 15)))
                gap = -1
                continue
        fired += int(self._drain(pos))
        gap = -1
    if n > 0:
        x = ws[_W_NOW] - _MASK + n  # wrap_add, inlined
        if x > 0:
            ws[_W_NOW] = x - 1
        else:
            ws[_W_NOW] = x + _MASK
    ws[_W_LAG] = 0
    ws[_W_NEXT] = -1
    if gap > n and not ws[_W_COUNT + _LEVELS]:
        # The last step found the next slot beyond n: next_in_ticks() is known (nothing
        # was armed since; _W_STEP still names that slot).
        x = ws[_W_NOW] - _MASK + gap - n  # wrap_add, inlined
        if x > 0:
            ws[_W_NEXT] = x - 1
        else:
            ws[_W_NEXT] = x + _MASK
    return fired
