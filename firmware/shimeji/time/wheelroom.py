"""The timer wheel's room (``TimerWheel``, wheel.py): its words made at their final size, room
reserved ahead (``reserve``) or grown when every number is armed (``_grow``), the free list of
numbers, and the wheel's id.

Its own module since wheel.py reached 350 lines: nothing here is on a hot path (set-up, and a
growth that ``reserve`` avoids); the word indexes are wheel.py's (its design note).
"""

from array import array

from micropython import const

from .. import port
from ..errors import BadArgument, TimerFull
from .wheelentry import note_ht

_MASK = const(0x3FFFFFFF)  # (wheel.py's constants, the ones used here)
_W_NOW = const(26)
_W_NEXT = const(28)
_W_RESUME = const(31)
_W_FREE = const(37)
_W_CAP = const(38)
_LISTS = const(321)
_W_ID = const(48)
_E = const(52)
_NONE = const(0xFFFF)
_MAX_CAP = const(0xFFFF)


def make_room(self, now, capacity):
    """``TimerWheel(now, capacity)``'s words: see the layout below. Allocates: set-up only."""
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
    # walk; the free list's head and the capacity; from 40, the constants of the Timer that
    # owns the wheel (its longest sleep_ms, ticks per clock unit, ...: timer.py), so that
    # sleep_ms and turn read them through the same pointer (0 in a wheel without a
    # Timer); 48 the wheel's id (``_id_of``: a slot's words name its timer's wheel by it),
    # 49-50 ``_ht``'s address (wheelentry.note_ht), 51 free; from 52, four words per entry
    # number. The indexes: the constants above. Each list's head and tail are 16-bit numbers
    # in a second array, ``_ht`` (``array('H')``, read through ptr16): [0, 321) the heads,
    # [321, 642) the tails. 1,284 B made once, never grown; the words' array that grows with
    # the capacity is 208 B + 16 B per entry (it held the heads and tails as 2,568 B of
    # 32-bit words before: on a board's cut-up heap that block was the one not found).
    int_cap = capacity if type(capacity) is int and 0 < capacity <= _MAX_CAP else 0
    if not int_cap:
        raise BadArgument("capacity (Timer, TimerWheel) must be an int from 1 to %d "
                          "(entries armed at once; it grows as needed), got %r"
                          % (_MAX_CAP, capacity))
    # One block of the final size, no temporary: an array made from a range is allocated
    # at its length at once (a list of zeros would be a second block as large, and growing
    # to the capacity afterwards a third), so a fragmented heap needs one hole, not three.
    n = _E + 4 * int_cap
    ws = array("i", range(n))
    ht = array("H", range(2 * _LISTS))
    self._w = ws
    self._ht = ht
    self._obj = [None] * int_cap  # the armed entry of each number (None when free)
    for i in range(_E):
        ws[i] = 0
    for i in range(2 * _LISTS):
        ht[i] = _NONE
    ws[_W_NOW] = now & _MASK
    ws[_W_NEXT] = -1
    ws[_W_RESUME] = -1
    ws[_W_CAP] = int_cap
    ws[_W_ID] = _id_of(self)
    ws[_W_FREE] = _link_free(ws, 0, int_cap, _NONE)
    note_ht(ws, ht)


def reserve_room(self, n):
    """Make room for ``n`` entries armed at once, so that arming them allocates nothing
    (the wheel grows by itself when it must, allocating then): ``16 * (n - capacity)``
    bytes more in the wheel's one array (its block moves unless the heap after it is
    free) and ``4 * (n - capacity)`` in its list of entries. Raises ``TimerFull`` if the
    heap has no room, the wheel unchanged. Not ISR-safe."""
    ws = self._w
    cap = ws[_W_CAP]
    if n <= cap:
        return
    k = n - cap
    if n > _MAX_CAP:
        raise TimerFull("a timer wheel holds at most %d entries armed at once (its "
                        "numbers are 16-bit), asked for %d: use a second Timer"
                        % (_MAX_CAP, n))
    objs = self._obj
    try:
        _extend(ws, objs, k)
    except MemoryError:
        while len(objs) > cap:  # (the list may have grown before the array failed)
            objs.pop()
        raise TimerFull("the timer wheel could not grow from %d to %d entries (%d B more "
                        "in one block of %d B, not free on this heap): make the Timer "
                        "with Timer(capacity=%d) or more at start-up, before the heap is "
                        "cut up (a StaticScheduler(timer=...) reserves 2 per slot)"
                        % (cap, n, 16 * k, 4 * (_E + 4 * n), n)) from None
    for i in range(_E + 4 * cap, _E + 4 * n):
        ws[i] = 0
    ws[_W_FREE] = _link_free(ws, cap, n, ws[_W_FREE])
    ws[_W_CAP] = n


def grow_room(self):
    # Every number is armed (the passes' free list is empty): by half again, and if that
    # block is not free, by the smallest step; TimerFull if even that fails.
    cap = self._w[_W_CAP]
    try:
        self.reserve(cap + (cap >> 1) + 8)
    except TimerFull:
        self.reserve(cap + 8)


def _id_of(wheel):
    """The wheel's id, never 0: on MicroPython its address (never moved) cut to 30 bits, unique
    among the wheels alive, in one heap far below 2**32 B (a slot whose words hold it keeps the
    wheel alive: ``slot.timer.wheel``); on CPython a count."""
    if port.IS_MICROPYTHON:
        return ((id(wheel) >> 2) & _MASK) | 1
    _count[0] = _count[0] % _MASK + 1
    return _count[0]


_count = [0]


def _extend(ws, objs, k):
    """Room for ``k`` more entries: ``4 * k`` words in ``ws``, ``k`` slots in ``objs``. On a
    ``MemoryError`` ``ws`` is unchanged (``objs`` may have grown). Tests replace it to inject
    the error."""
    objs.extend([None] * k)
    ws.extend(array("i", range(4 * k)))  # (one temporary block of the added size)


def _link_free(ws, lo, hi, free):
    """Put the numbers ``lo`` to ``hi - 1`` on the free list ahead of ``free``, lowest first;
    returns the new head."""
    for i in range(hi - 1, lo - 1, -1):
        ws[_E + 4 * i], ws[_E + 4 * i + 1] = free, _NONE  # (untagged: wheelpass.hand_off)
        free = i
    return free
