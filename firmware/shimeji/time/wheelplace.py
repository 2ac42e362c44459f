"""The wheel's placements in viper (``TimerWheel`` and ``sleep_ms`` call them; not public API).

``cascade``: every entry of a far slot that ``now`` reached moves to a lower level in one pass,
with ``arm_after``'s placement written in line. ``place_sleep``: ``sleep_ms``'s placement of its
task's entry. Viper: their integer operations are machine instructions (in native code each is
a runtime call), and the wheel's occupancy bitmaps and level counts, flat arrays, are read and
written as machine words through ``ptr16`` and ``ptr32``.
"""

import micropython
from micropython import const

from .. import port

if not port.IS_MICROPYTHON:

    def ptr16(buf):
        """Viper's ``ptr16(buf)`` cast, for CPython: index the array itself."""
        return buf

    ptr32 = ptr16

_MASK = const(0x3FFFFFFF)
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
    occ = ptr16(self._occ)
    count = ptr32(self._count)
    now = int(self.now)
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
            occ[p >> 4] |= 1 << (p & 15)
        else:
            tail.next = e
        tails[p] = e
        count[lv] += 1
        moved += 1
        e = nxt
    if kept_tail is not nil:
        kept_tail.next = nil
    head[pos] = kept
    tails[pos] = kept_tail
    count[level] -= moved


@micropython.viper
def place_sleep(timer, entry, ms: int, delta: int):
    """Arm ``entry`` (not armed) ``delta`` ticks after the wheel's ``now``, with the slack of
    an ``ms`` ms sleep (``Timer.slack_mask``): ``sleep_ms``'s placement, ``arm_after``'s
    written out in viper, whose integer operations are machine instructions (in native code
    each is a runtime call). ``0 < delta <= MAX_TICKS + 1``: every value stays below 2**30."""
    wheel = timer.wheel
    entry.wheel = wheel
    now = int(wheel.now)
    if ms < int(timer._slack_ms):
        mask = int(timer._slack)
    else:
        mask = int(timer.slack_mask(ms))
    if mask:  # the deadline rounded up to a multiple of mask + 1
        r = ((now & mask) + (delta & mask)) & mask
        if r:
            delta += mask + 1 - r
    d = now - _MASK + delta  # wrap_add: > 0 means past the wrap
    if d > 0:
        d -= 1
        level = 4
        pos = 256 | (d >> 24)
    else:
        d += _MASK
        x = now ^ d
        if x < 0x40:
            level = 0
            pos = d & 63
        elif x < 0x1000:
            level = 1
            pos = 64 | ((d >> 6) & 63)
        elif x < 0x40000:
            level = 2
            pos = 128 | ((d >> 12) & 63)
        elif x < 0x1000000:
            level = 3
            pos = 192 | ((d >> 18) & 63)
        else:
            level = 4
            pos = 256 | (d >> 24)
    entry.deadline = d
    entry.pos = pos
    tails = wheel._tail
    tail = tails[pos]
    entry.prev = tail
    occ = ptr16(wheel._occ)
    i = pos >> 4
    bits = occ[i]
    bit = 1 << (pos & 15)
    if bits & bit:  # the slot has entries: link behind its tail
        tail.next = entry
    else:
        wheel._head[pos] = entry
        occ[i] = bits | bit
    tails[pos] = entry
    count = ptr32(wheel._count)
    count[level] += 1
    wheel.pending = int(wheel.pending) + 1
    nxt = int(wheel._next)
    if nxt >= 0 and ((nxt - now) & _MASK) > delta:
        wheel._next = -1  # earlier than the remembered next deadline (see arm_after)
