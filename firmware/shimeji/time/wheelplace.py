"""The wheel's placement, cascade, drain and advance in viper (``TimerWheel`` calls them; not
public API).

``place``: ``arm_after``'s work once its checks are done: a number from the free list, the
level and slot of the deadline, the links at the slot's tail, the counts, all machine words.
``cascade``: every entry of a far slot that ``now`` reached moves to a lower level in one pass,
with the same placement in line. ``drain``: empty the slot ``now`` reached (hand its tasks
over, cascade, fire the callbacks). ``advance_due``: ``TimerWheel.advance`` once an entry is
known to be due (``Timer.turn`` calls it so), stepping from occupied slot to occupied slot; a
slot of task entries all due at once (level 0, or a level-1 slot on the slack's grid) is
handed off in one call. Viper: the integer operations are machine instructions, and the
wheel's words (wheel.py: counts, bitmaps, each number's links, list index and deadline) are
read and written through ``ptr32``, the lists' 16-bit heads and tails through ``ptr16``. A
callback may arm entries and so grow the words' array: its pointer is taken again after every
call that may run one (the heads' and tails' array never grows). (``sleep_ms``
writes the same placement out for its task's entry, in sleep.py.)
"""

import micropython
from micropython import const

from .. import port
from .wheelpass import hand_off, step

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

    ptr16 = ptr32  # (the heads' and tails' array of "H")

_MASK = const(0x3FFFFFFF)
_LEVELS = const(5)
_DUE = const(320)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_LAG = const(30)
_W_RESUME = const(31)
_W_RAG = const(33)
_W_FREE = const(37)
_HEAD = const(0)
_TAIL = const(321)
_E = const(52)
_OWN = const(0x400)
_NONE = const(0xFFFF)
_WAITING = const(3)  # core's slot states (the wheel does not import the task package)
_ASLEEP = const(4)
_NIL = None  # (viper compares objects with an object None)
_W_ID = const(48)  # the wheel's id (wheel.py)
_W_HT = const(49)  # its heads' and tails' address (wheelentry.note_ht)
_W_TPOS = const(4)  # a task slot's words (task/words.py): its own entry's number,
_W_TWHEEL = const(5)  # the id of its wheel,
_W_TDL = const(6)  # its deadline


@micropython.viper
def place(self, entry, delta: int, own: int):
    """Arm ``entry`` (not armed) ``delta`` ticks after ``now`` (0: the due list; at most
    ``WHEEL_MAX``): take a number, find the slot, link at its tail. ``own`` is ``_OWN`` for
    a slot's own sleep entry, else 0. Allocates only when the free list is empty."""
    ws = ptr32(self._w)
    ht = ptr16(self._ht)
    i = ws[_W_FREE]
    if i >= _NONE:
        self._grow()  # (an allocation: TimerWheel.reserve avoids it)
        ws = ptr32(self._w)
        i = ws[_W_FREE]
    b = _E + (i << 2)
    ws[_W_FREE] = ws[b]
    now = ws[_W_NOW]
    if delta <= 0:
        d = now
        pos = _DUE
        level = _LEVELS
    else:
        d = now - _MASK + delta  # wrap_add, inlined: > 0 means past the wrap
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
                if d & 63:  # not on the slot's start: the slot must cascade
                    ws[_W_RAG + ((d >> 10) & 3)] |= 1 << ((d >> 6) & 15)
            elif x < 0x40000:
                level = 2
                pos = 128 | ((d >> 12) & 63)
            elif x < 0x1000000:
                level = 3
                pos = 192 | ((d >> 18) & 63)
            else:
                level = 4
                pos = 256 | (d >> 24)
    if own:  # a SlotTimer: its number, deadline and wheel's id are words of its slot
        slot = entry.slot
        self._obj[i] = slot  # (the hand-off's way to the slot: a slot's own entry, by _OWN)
        sw = ptr32(slot.wa)
        wid = ws[_W_ID]
        if sw[_W_TWHEEL] != wid:
            entry.wheel = self
            sw[_W_TWHEEL] = wid
        sw[_W_TDL] = d
        sw[_W_TPOS] = i
    else:
        self._obj[i] = entry
        entry.wheel = self
        entry.deadline = d
        entry.pos = i
    tail = ht[_TAIL + pos]
    ws[b] = _NONE
    ws[b + 1] = tail
    ws[b + 2] = pos | own
    ws[b + 3] = d
    if tail < _NONE:
        ws[_E + (tail << 2)] = i
    else:
        ht[_HEAD + pos] = i
        if pos < _DUE:
            ws[pos >> 4] |= 1 << (pos & 15)
    ht[_TAIL + pos] = i
    ws[_W_COUNT + level] += 1
    ws[_W_PENDING] += 1
    nxt = ws[_W_NEXT]  # -1 (unknown) reads as 2**32 - 1 on a 64-bit machine: above _MASK
    if nxt <= _MASK and ((nxt - now) & _MASK) > delta:
        # Earlier than the remembered next_in_ticks(): forget it. A deadline at or after it
        # cannot land on a lower level or an earlier slot, so the answer stands.
        ws[_W_NEXT] = -1


@micropython.viper
def cascade(self, pos: int, level: int):
    """Move every entry of the far slot ``pos`` that ``now`` just reached to a lower
    level, in one pass with ``place``'s placement in line (their deadlines lie in ``now``'s
    span, after it); entries due at ``now`` itself stay, in order. The numbers stay."""
    ws = ptr32(self._w)
    ht = ptr16(self._ht)
    now = ws[_W_NOW]
    i = ht[_HEAD + pos]
    kept = _NONE
    kt = _NONE
    moved = 0
    while i < _NONE:
        b = _E + (i << 2)
        nxt = ws[b]
        d = ws[b + 3]
        ws[b] = _NONE
        if d == now:
            ws[b + 1] = kt
            if kt < _NONE:
                ws[_E + (kt << 2)] = i
            else:
                kept = i
            kt = i
            i = nxt
            continue
        x = now ^ d
        if x < 0x40:
            lv = 0
            p = d & 63
        elif x < 0x1000:
            lv = 1
            p = 64 | ((d >> 6) & 63)
            if d & 63:  # not on the slot's start: it must cascade (wheelroom.make_room)
                ws[_W_RAG + ((d >> 10) & 3)] |= 1 << ((d >> 6) & 15)
        elif x < 0x40000:
            lv = 2
            p = 128 | ((d >> 12) & 63)
        else:
            lv = 3
            p = 192 | ((d >> 18) & 63)
        ws[b + 2] = p | (ws[b + 2] & _OWN)
        tail = ht[_TAIL + p]
        ws[b + 1] = tail
        if tail < _NONE:
            ws[_E + (tail << 2)] = i
        else:
            ht[_HEAD + p] = i
            ws[p >> 4] |= 1 << (p & 15)
        ht[_TAIL + p] = i
        ws[_W_COUNT + lv] += 1
        moved += 1
        i = nxt
    ht[_HEAD + pos] = kept
    ht[_TAIL + pos] = kt
    ws[_W_COUNT + level] -= moved


@micropython.viper
def drain(self, pos: int) -> int:
    """Empty the slot that ``now`` just reached: hand its tasks over (level 0, or due now
    after the cascade), cascade the rest, then fire the callback entries left, in order.
    Returns how many fired. If a callback raises, the next advance finishes the slot."""
    nil = _NIL
    ws = ptr32(self._w)
    ht = ptr16(self._ht)  # (never grown: its pointer stays)
    ws[_W_RESUME] = pos  # if a callback raises, the next advance finishes this slot
    ws[_W_NEXT] = -1
    level = pos >> 6
    now = ws[_W_NOW]
    fired = 0
    if level == 0:
        fired = int(hand_off(self, pos, 0, nil))  # every task entry at once; callbacks stay
    elif level < _LEVELS:
        cascade(self, pos, level)  # what is not due now moves down; the rest is due:
        fired = int(hand_off(self, pos, level, nil))  # its tasks at once (a slack grid's)
    objs = self._obj
    while True:
        ws = ptr32(self._w)  # (again: a callback may have grown the array)
        i = ht[_HEAD + pos]
        if i >= _NONE:
            break
        b = _E + (i << 2)
        nxt = ws[b]
        ht[_HEAD + pos] = nxt
        if nxt < _NONE:
            ws[_E + (nxt << 2) + 1] = _NONE
        else:
            ht[_TAIL + pos] = _NONE
        own = ws[b + 2] & _OWN
        d = ws[b + 3]
        ws[b] = ws[_W_FREE]  # the number back on the free list
        ws[b + 1] = _NONE  # (untagged: wheelpass.hand_off)
        ws[_W_FREE] = i
        ws[_W_COUNT + level] -= 1
        ws[_W_PENDING] -= 1
        e = objs[i]
        objs[i] = nil
        if own:  # objs holds a SlotTimer's slot; its wheel stays (the slot's id word)
            pw = ptr32(e.wa)
            pw[_W_TPOS] = _NONE
            e = e.timer
        else:
            e.pos = -1
            e.wheel = nil
        if level == 0 or d == now:
            cb = e.callback
            if cb is nil:
                slot = e.slot
                if slot is not nil:
                    sched = slot.sched
                    if sched is not nil:
                        sw = ptr32(slot.w)  # (task/words.py: the state is word 0)
                        if own and sw[0] == _ASLEEP:
                            sw[0] = _WAITING  # its ring sleep ends: wake() queues it
                        sched.wake(slot)
            else:
                cb(e)
            fired += 1
        else:
            place(self, e, d - now, own)  # cascade: in now's span, never wrapped
    if pos < _DUE:
        ws[pos >> 4] = ws[pos >> 4] & (0xFFFF ^ (1 << (pos & 15)))
        if pos >= 64 and pos < 128:
            r = _W_RAG + ((pos >> 4) & 3)
            ws[r] = ws[r] & (0xFFFF ^ (1 << (pos & 15)))
    ws[_W_RESUME] = -1
    return fired


@micropython.viper
def advance_due(self, n: int, hint) -> int:
    """``advance(n)`` without its first look for an idle timer: for a caller that knows an
    entry is due by then (``Timer.turn``), or that a callback raised part-way. Returns how
    many fired. ``hint``: hand_off's (dropped once a callback may have run). Viper: the
    wheel's integers are machine words (a -1 stored in them reads as 2**32 - 1 on a 64-bit
    machine: "unset" is any value outside [0, 2**30))."""
    ws = ptr32(self._w)
    lo = ws[_W_HT]
    hi = ws[_W_HT + 1]
    if lo | hi:  # (wheelentry.note_ht: the heads' and tails' address)
        ht = ptr16(lo | ((hi << 16) << 16))
    else:
        ht = ptr16(self._ht)
    # The remembered next_in_ticks(): where step() found it, _W_STEP still names its slot
    # (whatever armed or cancelled since would have reset it), so the first step is known.
    known = ws[_W_NEXT]
    ws[_W_NEXT] = -1
    n += ws[_W_LAG]
    ws[_W_LAG] = n
    fired = 0
    rs = ws[_W_RESUME]
    if rs >= 0 and rs <= _MASK:  # a callback raised while that slot was being emptied
        fired += int(self._drain(rs))
        ws = ptr32(self._w)
        known = -1
        hint = _NIL
    if ws[_W_COUNT + _LEVELS]:  # (then the remembered answer was 0: the due list's)
        fired += int(self._take_due())
        ws = ptr32(self._w)
        known = -1
        hint = _NIL
    gap = -1
    while n > 0:
        gap = 0
        if known >= 0 and known <= _MASK:  # (-1, unknown, reads as 2**32 - 1 on 64-bit)
            gap = (known - ws[_W_NOW]) & _MASK  # > 0: step()'s answer, to _W_STEP's slot
            known = -1
        if gap == 0:
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
        # hand its tasks over here (drain's first step), no cascade.
        if pos < 64 or (pos < 128 and not ((ws[_W_RAG + ((pos >> 4) & 3)] >> (pos & 15)) & 1)):
            fired += int(hand_off(self, pos, pos >> 6, hint))
            if ht[_HEAD + pos] >= _NONE:  # no callback entries left: the slot is empty
                ws[pos >> 4] = ws[pos >> 4] & (0xFFFF ^ (1 << (pos & 15)))
                gap = -1
                continue
        fired += int(self._drain(pos))
        ws = ptr32(self._w)
        gap = -1
        hint = _NIL  # (its callbacks may have traced, filled or ticked the scheduler)
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
