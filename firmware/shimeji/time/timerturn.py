"""A timer's turn: ``Turn`` and ``turn``, which ``Timer`` (timer.py) takes as its ``turn``.

The run loop calls ``timer.turn()``: it reads the clock, advances the wheel by the whole ticks
that passed, wakes every task whose deadline came, and returns the reused ``Turn`` that says
what it did and when the next turn is due. Viper, for the run loop's every round: the
integer operations are machine instructions, and the wheel's integers and the timer's
constants are read as machine words through ``ptr32``.
"""

import micropython
from micropython import const

from .. import port
from .wheelpass import earliest
from .wheelplace import advance_due

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

    ptr16 = ptr32  # (the heads' and tails' array of "H")

_MASK = const(0x3FFFFFFF)
_BACKSTEP_LIMIT = const(0x3FFFFFFF - (1 << 20))  # as in clock.py: a reading this far behind
_MAX_US = const(0x1FFFFFFF)  # clock.MAX_US, a constant here (an imported name is a lookup)
_NIL = None  # (viper compares objects with an object None)
_W_NOW = const(26)  # TimerWheel._w's indexes (wheel.py)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_LAG = const(30)
_W_RESUME = const(31)
_W_BASE = const(32)
_HEAD = const(0)
_E = const(52)
_NONE = const(0xFFFF)
_C_PER = const(41)  # the Timer's constants in the wheel's words (wheel.py's _W_CONF; timer.py)
_C_TICK_US = const(45)
_C_UNIT_US = const(46)


class Turn:
    """What one ``turn()`` did; the timer reuses one Turn object (copy what you keep).

    ``now``: the timer's tick after the turn. ``elapsed``: ticks advanced. ``expired``: entries
    that fired (tasks woken, callbacks run). ``next_in_us``: µs until the timer next needs a
    turn (0: now), or -1 if nothing is armed; clamped to about 9 minutes."""

    def __init__(self):
        self.now = 0
        self.elapsed = 0
        self.expired = 0
        self.next_in_us = -1

    def __repr__(self):
        return "Turn(now=%d, elapsed=%d, expired=%d, next_in_us=%d)" % (
            self.now, self.elapsed, self.expired, self.next_in_us)


@micropython.viper
def turn(self):
    """Advance the wheel to the clock's now and fire every entry due; returns the reused
    ``Turn``. Allocation-free in steady state. Not ISR-safe: call it from the run loop."""
    # Viper: the integer operations are machine instructions (every value below 2**30);
    # in native code each was a runtime call (~20 per turn).
    nil = _NIL
    kit = self._kit  # (_, wheel, wheel._w, _source, wheel._obj, _, _turn, wheel._ht)
    ws = ptr32(kit[2])  # the wheel's integers (wheelroom.make_room); a -1 in them reads
    # as 2**32 - 1 on a 64-bit machine: "unknown" is any value > _MASK; the timer's
    # constants (clock.per, tick_us, unit_us...) are words of it too
    base = ws[_W_BASE]  # clock.base
    el = (int(kit[3]()) - base) & _MASK  # clock.elapsed(), inlined
    if el > _BACKSTEP_LIMIT:
        el = 0
    per = ws[_C_PER]
    n = el if per == 1 else el // per
    if n:
        el -= n * per
        x = base - _MASK + n * per  # clock.take(n) and wrap_add, inlined
        ws[_W_BASE] = x - 1 if x > 0 else x + _MASK
    self.pending = False
    t = kit[6]
    t.elapsed = n
    k = -1  # ticks to the wheel's next deadline after the advance; -1: none armed
    now = ws[_W_NOW]
    if ws[_W_PENDING]:
        nxt = ws[_W_NEXT]  # the remembered next_in_ticks(); -1 if unknown
        rs = ws[_W_RESUME]
        if nxt >= 0 and nxt <= _MASK and (rs < 0 or rs > _MASK) and not ws[_W_LAG]:
            k = (nxt - now) & _MASK
    trace = self.trace
    traced = 0 if trace is nil else 1  # (one ``is``, a runtime call in viper; then compares)
    if k > n and not traced:
        # Nothing due by now: the idle half of wheel.advance(n), in line.
        t.expired = 0
        if n:
            x = now - _MASK + n  # wrap_add, inlined
            now = x - 1 if x > 0 else x + _MASK
            ws[_W_NOW] = now
        t.now = now
        k -= n
    else:
        wheel = kit[1]
        if not traced:
            # k >= 0 here: an entry is due by now, and advance's first look is done
            t.expired = advance_due(wheel, n, nil) if k >= 0 else wheel.advance(n)
        else:
            t.expired = trace.timer_turn(wheel, n)
        ws = ptr32(kit[2])  # (again: a callback may have grown the array)
        now = ws[_W_NOW]
        if not ws[_W_PENDING]:
            k = -1
        else:
            nxt = ws[_W_NEXT]  # next_in_ticks(): advance leaves its last answer
            if nxt >= 0 and nxt <= _MASK:
                k = (nxt - now) & _MASK
            else:
                k = int(wheel.next_in_ticks())
        t.now = now
    # self._next_in_us(el), in line
    if k < 0:
        t.next_in_us = -1
        return t
    pos = ws[_W_STEP]
    if k > 0 and pos >= 64:
        # A far slot: its first entry on the slot's start (a deadline on the slack's
        # grid) is the earliest; else a lone far sleeper is not woken early (earliest).
        ht = ptr16(kit[7])  # wheel._ht
        first = ht[_HEAD + pos]
        if first >= _NONE or ((ws[_E + (first << 2) + 3] - now) & _MASK) > k:
            k = int(earliest(kit[1], pos, k))
    tick_us = ws[_C_TICK_US]
    if tick_us == 1:
        us = k if k <= _MAX_US else _MAX_US
    else:
        us = k * tick_us if k <= _MAX_US // tick_us else _MAX_US  # us_for_ticks, inlined
    if el:
        unit = ws[_C_UNIT_US]
        el_us = el * unit if el <= _MAX_US // unit else _MAX_US
        us = us - el_us if us > el_us else 0
    t.next_in_us = us
    return t


@micropython.viper
def peek(kit) -> int:
    """``turn()``'s answer when it would fire nothing (``kit``: the timer's ``_kit``): the µs
    to its next turn, after the same advance of the clock's base and the wheel's ``now``;
    -2 (and nothing changed) where ``turn()`` has more to do: an entry due, nothing armed, the
    next deadline not remembered, a far slot's entries to look through, an advance owed. For
    the run loop's turn after a tick (loopiter.py), which checks the timer's ``pending`` and
    ``trace`` first and leaves the ``Turn`` as it was. Allocation-free. Not ISR-safe."""
    ws = ptr32(kit[2])
    nxt = ws[_W_NEXT]  # the remembered next_in_ticks(), as in turn()
    rs = ws[_W_RESUME]
    if not ws[_W_PENDING] or nxt < 0 or nxt > _MASK or (rs >= 0 and rs <= _MASK) or ws[_W_LAG]:
        return -2
    now = ws[_W_NOW]
    k = (nxt - now) & _MASK
    pos = ws[_W_STEP]
    if pos >= 64:  # a far slot: the next deadline only if its first entry is on its start
        ht = ptr16(kit[7])  # (else turn() looks for the earliest: wheelpass.earliest)
        first = ht[_HEAD + pos]
        if first >= _NONE or ((ws[_E + (first << 2) + 3] - now) & _MASK) > k:
            return -2
    base = ws[_W_BASE]
    el = (int(kit[3]()) - base) & _MASK  # clock.elapsed(), inlined
    if el > _BACKSTEP_LIMIT:
        el = 0
    per = ws[_C_PER]
    n = el if per == 1 else el // per
    if k <= n:
        return -2  # an entry is due: the turn (it reads the clock again)
    if n:
        el -= n * per
        x = base - _MASK + n * per  # clock.take(n) and wrap_add, inlined
        ws[_W_BASE] = x - 1 if x > 0 else x + _MASK
        x = now - _MASK + n
        ws[_W_NOW] = x - 1 if x > 0 else x + _MASK
        k -= n
    tick_us = ws[_C_TICK_US]
    if tick_us == 1:
        us = k if k <= _MAX_US else _MAX_US
    else:
        us = k * tick_us if k <= _MAX_US // tick_us else _MAX_US
    if el:
        unit = ws[_C_UNIT_US]
        el_us = el * unit if el <= _MAX_US // unit else _MAX_US
        us = us - el_us if us > el_us else 0
    return us


@micropython.viper
def fire(kit, hint) -> int:
    """``turn()``'s work without its answer (``kit``: the timer's ``_kit``): the clock's base
    and the wheel advanced to now, every entry due fired; returns how many fired. For the run
    loop's turn after an idle (loopiter.py), which reads nothing of it and checks the timer's
    ``trace`` first; ``pending`` stays set (the next ``turn()`` clears it). ``hint``: a
    scheduler seen between ticks with an empty inbox, or None (wheelpass.hand_off's). Not
    ISR-safe."""
    ws = ptr32(kit[2])
    base = ws[_W_BASE]
    el = (int(kit[3]()) - base) & _MASK  # clock.elapsed(), inlined
    if el > _BACKSTEP_LIMIT:
        el = 0
    per = ws[_C_PER]
    n = el if per == 1 else el // per
    if n:
        x = base - _MASK + n * per  # clock.take(n) and wrap_add, inlined
        ws[_W_BASE] = x - 1 if x > 0 else x + _MASK
    k = -1
    now = ws[_W_NOW]
    if ws[_W_PENDING]:
        nxt = ws[_W_NEXT]  # the remembered next_in_ticks(), as in turn()
        rs = ws[_W_RESUME]
        if nxt >= 0 and nxt <= _MASK and (rs < 0 or rs > _MASK) and not ws[_W_LAG]:
            k = (nxt - now) & _MASK
    if k > n:  # nothing due by now
        if n:
            x = now - _MASK + n  # wrap_add, inlined
            ws[_W_NOW] = x - 1 if x > 0 else x + _MASK
        return 0
    if k >= 0:
        return int(advance_due(kit[1], n, hint))
    return int(kit[1].advance(n))
