"""A hierarchical timer wheel (after maitake's): ``TimerWheel``, of ``TimerEntry`` (wheelentry.py).

Design note. Time is counted in ticks that wrap at 2**30 (30 bits = 5 levels of 6 bits). Level
``k`` has 64 slots of 64**k ticks each. An entry whose deadline ``d`` first differs from ``now``
in digit ``k`` (6-bit digits) goes to level ``k``, slot ``digit k of d``; a deadline past the
wrap goes to the top level, which is a circle. So every entry on level ``k`` lies in the
current span of level ``k+1``, strictly after ``now``: the earliest occupied slot is always on
the lowest non-empty level. Advancing jumps from occupied slot to occupied slot: a level-0 slot
holds entries due at exactly its tick (they fire); a higher slot is *cascaded*, its entries
re-linked to lower levels relative to the new ``now``. Each entry is cascaded at most 4 times.

Entries are linked in place (``prev``/``next``) into per-slot FIFO lists, so arming and
cancelling are O(1) and allocate nothing, and entries due on the same tick fire in the order
they were armed. Each level's 64-slot occupancy bitmap is kept as four 16-bit words (a 64-bit or
32-bit word would not be a small int on a 32-bit board); the next occupied slot is found with a
byte lookup table, without ``int.bit_length``. ``next_in_ticks`` is remembered (as an absolute
tick) until an entry is armed, cancelled or fired. The hot paths are written with few calls
and compiled native: each Python-level call costs more here than the work inside it.
"""

from array import array

import micropython
from micropython import const

from .. import core
from ..errors import DurationTooLong
from .wheelentry import TimerEntry, check_arm
from .wheelpass import earliest, hand_off, step
from .wheelplace import advance_due, cascade

_MASK = const(0x3FFFFFFF)
_LEVELS = const(5)
_DUE = const(320)  # list index of entries already due (deadline <= now): fire on next advance
_W_COUNT = const(20)  # TimerWheel._w: entries per level from here (see TimerWheel.__init__)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_LAG = const(30)
_W_RESUME = const(31)
_W_BASE = const(32)  # (a Timer's Clock keeps its base here: Clock(ints=wheel._w, at=_W_BASE))
_W_RAG = const(33)  # level 1's "ragged" bitmap: 4 words, a bit per slot (see TimerWheel.__init__)
_W_LEN = const(37)
WHEEL_MAX = const(0x3F000000)  # furthest deadline ahead of ``now``: 63 * 2**24 ticks


class TimerWheel:
    """Entries by deadline, in 5 levels of 64 slots. Not ISR-safe: one context drives it."""

    def __init__(self, now=0):
        # The wheel's integers in one flat array, which the viper passes (wheelpass.py,
        # wheelplace.py, sleep_ms, Timer.turn) read and write as machine words through ptr32
        # (one attribute load each, then no lookups): [0, 20) the occupancy bitmaps, 4 words of
        # 16 slots per level (list index >> 4); [20, 26) the entries per level ([25]: the due
        # list); then now, pending, the remembered next_in_ticks() (-1: unknown), step()'s
        # list index, the ticks an advance still owes (lag) and the slot it was emptying when
        # a callback raised (-1: none); a Timer's clock base; then level 1's ragged bitmap:
        # a slot's bit is set when an entry whose deadline is not the slot's start was put
        # there (cleared when the slot is drained), so a level-1 slot without it holds only
        # entries due at its start (the slack's grid of 64 ticks or more: every sleep_ms on a
        # µs timer with the default slack) and is handed off at once, without the cascade's
        # walk. The indexes: the _W_* constants.
        self._w = array("i", [0] * _W_LEN)
        ws = self._w
        ws[_W_NOW] = now & _MASK
        ws[_W_NEXT] = -1
        ws[_W_RESUME] = -1
        self._head = [None] * (_DUE + 1)
        self._tail = [None] * (_DUE + 1)

    @property
    def now(self):
        """The wheel's tick (it moves on in ``advance``). ISR-safe (a read)."""
        return self._w[_W_NOW]

    @now.setter
    def now(self, tick):
        self._w[_W_NOW] = tick

    @property
    def pending(self):
        """Armed entries, the due list included. ISR-safe (a read)."""
        return self._w[_W_PENDING]

    @pending.setter
    def pending(self, n):
        self._w[_W_PENDING] = n

    @property
    def lag(self):
        """Ticks an advance still owes (a callback raised part-way). ISR-safe (a read)."""
        return self._w[_W_LAG]

    @property
    def _resume(self):
        return self._w[_W_RESUME]

    @property
    def _next(self):
        return self._w[_W_NEXT]

    @_next.setter
    def _next(self, tick):
        self._w[_W_NEXT] = tick

    # -- arming ---------------------------------------------------------------------------------

    def arm(self, entry, deadline):
        """Arm ``entry`` for the absolute tick ``deadline`` (re-arms if armed). A deadline at or
        before ``now`` (``ticks_diff`` sense) fires on the next advance. O(1), no allocation.
        Not ISR-safe."""
        ws = self._w
        if type(entry) is not TimerEntry or type(deadline) is not int:
            check_arm(entry, deadline, "deadline", "an int: a wheel tick")
        x = (deadline - ws[_W_NOW]) & _MASK
        self.arm_after(entry, x if x <= 0x1FFFFFFF else 0)

    @micropython.native
    def arm_after(self, entry, delta, _type=type, _entry=TimerEntry, _int=int):
        """Arm ``entry`` to fire ``delta`` ticks after ``now`` (0 or less: on the next advance).
        Raises ``DurationTooLong`` beyond ``WHEEL_MAX``. O(1), no allocation. Not ISR-safe."""
        ws = self._w
        # The defaults are locals: no lookups in the module's globals and the builtins (their
        # cost there varies by ~1k instructions with the dict's layout).
        if _type(entry) is not _entry or _type(delta) is not _int:
            check_arm(entry, delta, "delta", "an int of ticks")
        if entry.pos >= 0:
            entry.cancel()
        if delta > WHEEL_MAX:
            raise DurationTooLong("a deadline %d ticks ahead is beyond the wheel's range of %d "
                                  "ticks: turn the timer more often or wait in steps"
                                  % (delta, WHEEL_MAX))
        entry.wheel = self
        now = ws[_W_NOW]
        # Find the slot and link at its tail, inline (arming is on every sleep's hot path).
        if delta <= 0:
            entry.deadline = now
            pos = _DUE
            level = _LEVELS
        else:
            d = now - _MASK + delta  # wrap_add, inlined: > 0 means past the wrap
            if d > 0:
                d -= 1
                entry.deadline = d
                level = 4
                pos = 256 | (d >> 24)
            else:
                d += _MASK
                entry.deadline = d
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
        entry.pos = pos
        tail = self._tail[pos]
        entry.prev = tail
        if tail is None:
            self._head[pos] = entry
            if pos < _DUE:
                ws[pos >> 4] |= 1 << (pos & 15)
        else:
            tail.next = entry
        self._tail[pos] = entry
        ws[_W_COUNT + level] += 1
        ws[_W_PENDING] += 1
        nxt = ws[_W_NEXT]
        if nxt >= 0 and ((nxt - now) & _MASK) > delta:
            # Earlier than the remembered next_in_ticks(): forget it. A deadline at or after it
            # cannot land on a lower level or an earlier slot, so the answer stands.
            ws[_W_NEXT] = -1

    # -- advancing ------------------------------------------------------------------------------

    @micropython.native
    def next_in_ticks(self):
        """Ticks until the wheel next needs advancing: the next deadline, or earlier when a
        far slot must cascade first (never later). 0 if entries are due, -1 if none are armed.
        Allocation-free. Not ISR-safe (the run loop may be changing the wheel)."""
        ws = self._w
        if not ws[_W_PENDING]:
            return -1
        now = ws[_W_NOW]
        nxt = ws[_W_NEXT]
        if nxt >= 0:  # nothing armed, cancelled or fired since it was found
            return (nxt - now) & _MASK
        if ws[_W_COUNT + _LEVELS]:
            k = 0
        else:
            k = step(self)
        if ws[_W_RESUME] < 0:  # not while a slot is being drained
            x = now - _MASK + k  # wrap_add, inlined
            ws[_W_NEXT] = x - 1 if x > 0 else x + _MASK
        return k

    @micropython.native
    def next_deadline_in_ticks(self):
        """Ticks until the earliest deadline, for an idle wait: ``next_in_ticks()``, except
        that when that is where a far slot cascades, the earliest deadline in that slot if it
        holds at most 8 entries (a lone far sleeper is not woken early to
        cascade). Never later than the earliest deadline. Allocation-free. Not ISR-safe."""
        ws = self._w
        k = self.next_in_ticks()
        if k <= 0 or ws[_W_STEP] < 64:
            return k
        return earliest(self, ws[_W_STEP], k)

    @micropython.native
    def advance(self, n):
        """Move ``now`` on by ``n`` ticks (0 ≤ n < 2**29), firing every entry due by then, in
        deadline order (arming order within a tick); due-list entries fire first. Returns how
        many fired. Allocation-free (callbacks aside). If a callback raises, the error
        propagates and the next advance catches up: nothing is lost. Not ISR-safe."""
        ws = self._w
        if ws[_W_RESUME] < 0 and not ws[_W_LAG]:
            nxt = ws[_W_NEXT]  # next_in_ticks(), its remembered answer inlined
            if not ws[_W_PENDING]:
                k = -1
            elif nxt >= 0:
                k = (nxt - ws[_W_NOW]) & _MASK
            else:
                k = self.next_in_ticks()
            if k < 0 or k > n:  # nothing due by then: the turn of an idle timer
                if n:
                    x = ws[_W_NOW] - _MASK + n  # wrap_add, inlined
                    ws[_W_NOW] = x - 1 if x > 0 else x + _MASK
                return 0
        return self._advance_due(n)

    _advance_due = advance_due  # (wheelplace.py, in viper)

    @micropython.native
    def _take_due(self):
        """Fire the due list (entries armed at or before ``now``): ``advance_due``'s first
        step when it holds any. Returns how many fired."""
        ws = self._w
        fired = hand_off(self, _DUE, _LEVELS)
        due = ws[_W_COUNT + _LEVELS]
        head = self._head
        while due > 0 and head[_DUE] is not None:
            e = head[_DUE]
            e.cancel()
            _fire(e)
            fired += 1
            due -= 1
        return fired

    @micropython.native
    def _drain(self, pos):
        """Empty the slot that ``now`` just reached: fire (level 0, or due now) or cascade."""
        ws = self._w
        ws[_W_RESUME] = pos  # if a callback raises, the next advance finishes this slot
        ws[_W_NEXT] = -1
        level = pos >> 6
        head = self._head
        now = ws[_W_NOW]
        fired = 0
        if level == 0:
            fired = hand_off(self, pos, 0)  # every task entry at once; callbacks stay, below
        elif level < _LEVELS:
            cascade(self, pos, level)  # what is not due now moves down; the rest is due:
            fired = hand_off(self, pos, level)  # its tasks at once (a slack grid's deadlines)
        e = head[pos]
        while e is not None:
            # Unlinking the head, inlined; the count is settled once, after the loop.
            nxt = e.next
            head[pos] = nxt
            if nxt is None:
                self._tail[pos] = None
            else:
                nxt.prev = None
                e.next = None
            e.pos = -1
            e.wheel = None
            ws[_W_COUNT + level] -= 1
            ws[_W_PENDING] -= 1
            if level == 0 or e.deadline == now:
                cb = e.callback  # _fire, inlined
                if cb is None:
                    slot = e.slot
                    if slot is not None:
                        sched = slot.sched
                        if sched is not None:
                            if e is slot.timer:
                                slot.sleeping = False  # its ring sleep (if any) ends
                            sched.wake(slot)
                else:
                    cb(e)
                fired += 1
            else:
                self.arm_after(e, e.deadline - now)  # cascade: in now's span, never wrapped
            e = head[pos]
        if pos < _DUE:
            ws[pos >> 4] &= ~(1 << (pos & 15))
            if 64 <= pos < 128:
                ws[_W_RAG + ((pos >> 4) & 3)] &= ~(1 << (pos & 15))
        ws[_W_RESUME] = -1
        return fired


def _fire(entry):
    cb = entry.callback
    if cb is None:
        slot = entry.slot
        if slot is not None:
            core.wake(slot)
    else:
        cb(entry)
