"""A hierarchical timer wheel (after maitake's): ``TimerWheel``, of ``TimerEntry`` (wheelentry.py).

Design note. Time is counted in ticks that wrap at 2**30 (30 bits = 5 levels of 6 bits). Level
``k`` has 64 slots of 64**k ticks each. An entry whose deadline ``d`` first differs from ``now``
in digit ``k`` (6-bit digits) goes to level ``k``, slot ``digit k of d``; a deadline past the
wrap goes to the top level, which is a circle. So every entry on level ``k`` lies in the
current span of level ``k+1``, strictly after ``now``: the earliest occupied slot is always on
the lowest non-empty level. Advancing jumps from occupied slot to occupied slot: a level-0 slot
holds entries due at exactly its tick (they fire); a higher slot is *cascaded*, its entries
re-linked to lower levels relative to the new ``now``. Each entry is cascaded at most 4 times.

Entries are linked in place into per-slot FIFO lists, so arming and cancelling are O(1) and
allocate nothing, and entries due on the same tick fire in the order they were armed. The
lists are *words*: an armed entry takes a number from the wheel's free list (its ``pos``),
and its links, list index and deadline are four machine words of the wheel's one
``array('i')`` at that number, the entry object kept beside them in ``_obj`` (the passes find
a task's slot through it); each list's head and tail numbers are 16-bit, in an ``array('H')``
of their own (the block that grows is the entries' words alone). "None" in a link, head or tail is
``_NONE``, 0xFFFF, above every number (capacity: at most 0xFFFF; not -1: through viper's
``ptr32`` a stored -1 reads as 2**32 - 1 on a 64-bit machine). Each level's 64-slot occupancy
bitmap is kept as four 16-bit words (a 64-bit or 32-bit word would not be a small int on a
32-bit board); the next occupied slot is found with a byte lookup table, without
``int.bit_length``. ``next_in_ticks`` is remembered (as an absolute tick, its slot in
``_W_STEP``) until an entry is armed earlier, cancelled or fired. Hot paths: viper over the
words (wheelplace.py, wheelpass.py, sleep.py, timerturn.py; a call costs more than their work).
"""


import micropython
from micropython import const

from .. import core
from ..errors import DurationTooLong
from .wheelentry import SlotTimer, TimerEntry, check_arm
from .wheelpass import earliest, hand_off, step
from .wheelplace import advance_due, drain, place
from .wheelroom import grow_room, make_room, reserve_room

_MASK = const(0x3FFFFFFF)
_LEVELS = const(5)
_DUE = const(320)  # list index of entries already due (deadline <= now): fire on next advance
_W_COUNT = const(20)  # TimerWheel._w: entries per level from here (see wheelroom.make_room)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_LAG = const(30)
_W_RESUME = const(31)
_W_BASE = const(32)  # (a Timer's Clock keeps its base here: Clock(ints=wheel._w, at=_W_BASE))
_W_RAG = const(33)  # level 1's "ragged" bitmap: 4 words, a bit per slot (wheelroom.make_room)
_W_FREE = const(37)  # the first free number (its NEXT word links the next free one)
_W_CAP = const(38)  # numbers the array has words for
_W_CONF = const(40)  # a Timer's constants, 7 words (timer.py; sleep.py's and timerturn.py's _C_*)
_LISTS = const(321)  # list indexes: 5 levels of 64 slots, and the due list
_HEAD = const(0)  # TimerWheel._ht, per list index (0..320): its first entry's number, or _NONE
_TAIL = const(321)  # its last
_W_ID = const(48)  # the wheel's id: a slot's timer names its wheel by it (task/words.py W_TWHEEL)
_E = const(52)  # number i's words: _E + 4 * i: next, prev, list index (| _OWN), deadline
_OWN = const(0x400)  # in the list-index word: a slot's own sleep entry (slot.timer)
_NONE = const(0xFFFF)  # "no entry" in a link, a head or a tail (numbers are 16-bit)
_MAX_CAP = const(0xFFFF)  # numbers 0 .. 0xFFFE
WHEEL_MAX = const(0x3F000000)  # furthest deadline ahead of ``now``: 63 * 2**24 ticks


class TimerWheel:
    """Entries by deadline, in 5 levels of 64 slots. Not ISR-safe: one context drives it."""

    def __init__(self, now=0, capacity=16):
        make_room(self, now, capacity)  # (wheelroom.py: the words, their layout, the numbers)

    reserve = reserve_room  # (wheelroom.py: not a hot path)
    _grow = grow_room

    def list_index(self, entry):
        """The list index ``entry`` is armed in (level * 64 + slot; 320: the due list), or -1
        if it is not armed here. For tests and tools. ISR-safe (reads)."""
        i = entry.pos
        if i < 0 or entry.wheel is not self:
            return -1
        return self._w[_E + 4 * i + 2] & (_OWN - 1)

    @property
    def now(self):
        """The wheel's tick (it moves on in ``advance``). ISR-safe (a read)."""
        return self._w[_W_NOW]

    @now.setter
    def now(self, tick):
        self._w[_W_NOW] = tick
        self._w[_W_NEXT] = -1  # (the remembered next deadline and its slot: found again)

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
        before ``now`` (``ticks_diff`` sense) fires on the next advance. O(1), no allocation
        (within the reserved capacity). Not ISR-safe."""
        ws = self._w
        if type(entry) is not TimerEntry or type(deadline) is not int:
            check_arm(entry, deadline, "deadline", "an int: a wheel tick")
        x = (deadline - ws[_W_NOW]) & _MASK
        self.arm_after(entry, x if x <= 0x1FFFFFFF else 0)

    @micropython.native
    def arm_after(self, entry, delta, _type=type, _entry=TimerEntry, _int=int, _own=SlotTimer):
        """Arm ``entry`` to fire ``delta`` ticks after ``now`` (0 or less: on the next advance).
        Raises ``DurationTooLong`` beyond ``WHEEL_MAX``. O(1), no allocation (within the
        reserved capacity). Not ISR-safe."""
        # The defaults are locals: no lookups in the module's globals and the builtins (their
        # cost there varies by ~1k instructions with the dict's layout).
        t = _type(entry)
        if t is _own:  # a slot's own sleep entry: its number, deadline and wheel are words
            own = _OWN  # of the slot (the hand-off's ring sleeper, by the list word's flag)
        else:
            own = 0
            if t is not _entry:
                check_arm(entry, delta, "delta", "an int of ticks")
        if _type(delta) is not _int:
            check_arm(entry, delta, "delta", "an int of ticks")
        if entry.pos >= 0:
            entry.cancel()
        if delta > WHEEL_MAX:
            raise DurationTooLong("a deadline %d ticks ahead is beyond the wheel's range of %d "
                                  "ticks: turn the timer more often or wait in steps"
                                  % (delta, WHEEL_MAX))
        place(self, entry, delta if delta > 0 else 0, own)

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
        return self._advance_due(n, None)

    _advance_due = advance_due  # (wheelplace.py, in viper)
    _drain = drain  # empty the slot that ``now`` just reached: fire or cascade (wheelplace.py)

    @micropython.native
    def _take_due(self):
        """Fire the due list (entries armed at or before ``now``): ``advance_due``'s first
        step when it holds any. Returns how many fired."""
        ws = self._w
        ht = self._ht
        fired = hand_off(self, _DUE, _LEVELS, None)
        due = ws[_W_COUNT + _LEVELS]
        objs = self._obj
        while due > 0 and ht[_HEAD + _DUE] != _NONE:
            i = ht[_HEAD + _DUE]
            e = objs[i]
            if ws[_E + 4 * i + 2] & _OWN:  # a slot's own entry: _obj holds its slot
                e = e.timer
            e.cancel()
            cb = e.callback
            if cb is None:
                slot = e.slot
                if slot is not None:
                    core.wake(slot)
            else:
                cb(e)
            fired += 1
            due -= 1
        return fired
