"""``TimerEntry``: one deadline, linked in place into a ``TimerWheel`` (wheel.py).

An armed entry holds its wheel, its number there (``pos``: its links, list index and deadline
are words of the wheel's array at that number) and its deadline: arming takes a number and
links it (``TimerWheel.arm_after``), ``cancel`` unlinks it and gives the number back, in O(1)
and without allocating. Make entries up front (a task slot embeds one).
"""

import micropython
from micropython import const

from .. import port
from ..errors import BadArgument, int_arg

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

    ptr16 = ptr32  # (the heads' and tails' array of "H")

_DUE = const(320)  # TimerWheel's list index of the due entries (wheel.py)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_RAG = const(33)
_W_FREE = const(37)
_HEAD = const(0)
_TAIL = const(321)
_E = const(52)
_LIST = const(0x3FF)  # the list index in its word (without the _OWN flag)
_NONE = const(0xFFFF)
_NIL = None  # (viper compares objects with an object None)
_W_ID = const(48)  # the wheel's id word (wheel.py)
_W_TPOS = const(4)  # a task slot's words (task/words.py): its own entry's number,
_W_TWHEEL = const(5)  # the id of its wheel,
_W_TDL = const(6)  # its deadline
_W_HT = const(49)  # _ht's address, low and high 32 bits (0, 0: not known; note_ht)


class TimerEntry:
    """One pending deadline, linked in place into a wheel. Make entries up front.

    When it fires, ``callback(entry)`` is called if set, else the task in ``slot`` is woken.
    ``pos`` is -1 when the entry is not armed (its number in the wheel's words when it is);
    ``deadline`` the wheel tick it was last armed for.
    """

    def __init__(self, slot=None, callback=None):
        self.slot = slot
        self.callback = callback
        self.wheel = None  # the wheel it is armed on
        self.pos = -1  # its number in the wheel's words; -1 when not armed
        self.deadline = 0
        self.key = 0  # free for the owner (timeout() keeps a task id here)

    def is_armed(self):
        """True until it fires or is cancelled. ISR-safe (reads one field)."""
        return self.pos >= 0

    @micropython.viper
    def cancel(self) -> bool:
        """Disarm; True if it was armed. O(1), allocation-free, a no-op when not armed.
        Not ISR-safe: call it from the run loop or a task."""
        i = int(self.pos)
        if i < 0:
            return False
        w = self.wheel
        ws = ptr32(w._w)
        ht = ptr16(w._ht)
        b = _E + (i << 2)
        nxt = ws[b]
        prev = ws[b + 1]
        pos = ws[b + 2] & _LIST
        if prev < _NONE:
            ws[_E + (prev << 2)] = nxt
        else:
            ht[_HEAD + pos] = nxt
        if nxt < _NONE:
            ws[_E + (nxt << 2) + 1] = prev
        else:
            ht[_TAIL + pos] = prev
            if prev >= _NONE and pos < _DUE:  # the list is empty now
                ws[pos >> 4] = ws[pos >> 4] & (0xFFFF ^ (1 << (pos & 15)))  # occupancy bit
                if pos >= 64 and pos < 128:  # and level 1's ragged bit
                    r = _W_RAG + ((pos >> 4) & 3)
                    ws[r] = ws[r] & (0xFFFF ^ (1 << (pos & 15)))
        ws[_W_COUNT + (pos >> 6)] -= 1
        ws[_W_PENDING] -= 1
        ws[_W_NEXT] = -1
        ws[b] = ws[_W_FREE]  # the number back on the free list
        ws[b + 1] = _NONE  # (untagged: wheelpass.hand_off)
        ws[_W_FREE] = i
        w._obj[i] = _NIL
        self.pos = -1
        self.wheel = _NIL
        return True


def _pos(self):
    i = self.slot.w[_W_TPOS]
    return -1 if i >= _NONE else i


def _set_pos(self, i):
    self.slot.w[_W_TPOS] = _NONE if i < 0 else i


def _deadline(self):
    return self.slot.w[_W_TDL]


def _set_deadline(self, d):
    self.slot.w[_W_TDL] = d


class SlotTimer(TimerEntry):
    """A task slot's own timer entry (``slot.timer``: its sleeps and Interval waits). A
    ``TimerEntry`` whose ``pos`` and ``deadline`` are words of its slot (task/words.py
    ``W_TPOS``, ``W_TDL``), beside the id of its ``wheel`` (``W_TWHEEL``): ``sleep_ms``, the
    tick's park and the timer's hand-off read and write them as machine words. ``wheel`` stays
    the wheel it was last armed on (cancelling or firing leaves it: the id word names it)."""

    pos = property(_pos, _set_pos)
    deadline = property(_deadline, _set_deadline)
    # Never set on a slot's own entry (the fire wakes its slot; timeout() keeps its task id on
    # an entry of its own): class-level, so the entry's attribute table holds two names, not
    # four (16 B less a slot on a 32-bit board: "STM32 and qemu mps2, session 22").
    callback = None
    key = 0

    def __init__(self, slot):
        self.slot = slot
        self.wheel = None  # the wheel it was last armed on
        self.pos = -1  # (words of the slot: no table entry)
        self.deadline = 0

    @micropython.viper
    def cancel(self) -> bool:
        """Disarm; True if it was armed (``TimerEntry.cancel`` over the slot's words)."""
        sw = ptr32(self.slot.wa)
        i = sw[_W_TPOS]
        if i >= _NONE:
            return False
        w = self.wheel
        ws = ptr32(w._w)
        ht = ptr16(w._ht)
        b = _E + (i << 2)
        nxt = ws[b]
        prev = ws[b + 1]
        pos = ws[b + 2] & _LIST
        if prev < _NONE:
            ws[_E + (prev << 2)] = nxt
        else:
            ht[_HEAD + pos] = nxt
        if nxt < _NONE:
            ws[_E + (nxt << 2) + 1] = prev
        else:
            ht[_TAIL + pos] = prev
            if prev >= _NONE and pos < _DUE:  # the list is empty now
                ws[pos >> 4] = ws[pos >> 4] & (0xFFFF ^ (1 << (pos & 15)))  # occupancy bit
                if pos >= 64 and pos < 128:  # and level 1's ragged bit
                    r = _W_RAG + ((pos >> 4) & 3)
                    ws[r] = ws[r] & (0xFFFF ^ (1 << (pos & 15)))
        ws[_W_COUNT + (pos >> 6)] -= 1
        ws[_W_PENDING] -= 1
        ws[_W_NEXT] = -1
        ws[b] = ws[_W_FREE]  # the number back on the free list
        ws[b + 1] = _NONE  # (untagged: wheelpass.hand_off)
        ws[_W_FREE] = i
        w._obj[i] = _NIL
        sw[_W_TPOS] = _NONE
        return True


def check_arm(entry, value, name, expected):
    """Raise ``BadArgument`` unless ``entry`` is a ``TimerEntry`` and ``value`` an int: the
    slow half of the ``arm*`` methods' argument checks."""
    if not isinstance(entry, TimerEntry):
        raise BadArgument("the entry to arm must be a TimerEntry (make it once: "
                          "TimerEntry(callback=f)), got %r" % (entry,))
    int_arg(value, name, expected)


def note_ht(ws, ht):
    """Write the address of the wheel's heads and tails (``ht``, never moved nor grown) into
    its words ``ws`` (``_W_HT``, two words: low and high 32 bits), so that a viper pass that
    has the words casts it with no attribute load and no buffer call (sleep_ms, hand_off,
    advance_due: ~350 instructions per fired timer); left 0 (the passes read ``_ht``) where
    viper is not compiled (CPython, a bytecode-only build: then hand_off tags no number
    either). Set-up only (``TimerWheel()``)."""
    if port.IS_MICROPYTHON:
        try:
            _ht_address(ws, ht)
        except Exception:  # noqa: BLE001 (a bytecode-only build: ptr16 indexes, int() raises)
            pass


@micropython.viper
def _ht_address(ws, ht):
    a = int(ptr16(ht))
    w = ptr32(ws)
    w[_W_HT] = a
    w[_W_HT + 1] = (a >> 16) >> 16  # (0 on a 32-bit board: two shifts, each below its width)
