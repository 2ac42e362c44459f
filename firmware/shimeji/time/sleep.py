"""What tasks await on a timer: ``sleep_ms``, ``sleep_us`` and ``sleep_until`` (``Interval``:
interval.py).

Each task's sleeps use the timer entry of its own slot (``slot.timer``), so sleeping allocates
nothing and cancelling the task disarms the entry at once. A sleep never ends early: its
deadline is rounded up to a tick boundary at or after "now + duration", counting the part of
the current tick already gone, and a wake before the entry fired (a spurious one) parks again.
"""

import sys

import micropython
from micropython import const

from .. import core, port
from ..errors import int_arg
from .asleep import _no_ring, _ring, _ring_append, _ring_iter, _Sleep, _sleep  # noqa: F401
from .timer import timer_of

try:
    from _thread import get_ident as _get_ident
except ImportError:  # no threads: no loop guards its thread, so the fast path never calls it
    _get_ident = None

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

    ptr16 = ptr32  # (the heads' and tails' array of "H")

_MASK = const(0x3FFFFFFF)
_BACKSTEP_LIMIT = const(0x3FFFFFFF - (1 << 20))  # as in clock.py: a reading this far behind
_C_MAX_MS = const(40)  # the Timer's constants in its wheel's words (wheel.py's _W_CONF):
_C_PER = const(41)  # its _max_ms, clock.per, _per_ms, _slack_ms, _slack (timer.py)
_C_PER_MS = const(42)
_C_SLACK_MS = const(43)
_C_SLACK = const(44)
_W_GUARD = const(47)  # nonzero while a foreground loop guards its thread, and _W_IDENT: the
_W_IDENT = const(39)  # thread's get_ident() (sched/loopthread.py's _guard_words)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_BASE = const(32)
_W_RAG = const(33)
_W_FREE = const(37)
_HEAD = const(0)
_TAIL = const(321)
_W_ID = const(48)  # the wheel's id (wheel.py)
_W_HT = const(49)  # its heads' and tails' address (wheelentry.note_ht)
_E = const(52)
_OWN = const(0x400)
_NONE = const(0xFFFF)
_W_TPOS = const(4)  # a task slot's words (task/words.py): its own entry's number,
_W_TWHEEL = const(5)  # the id of its wheel,
_W_TDL = const(6)  # its deadline
_moves = core.guard_moves  # (a foreground loop's guard went up or down: core.settled)


def _not_ms(ms):
    int_arg(ms, "sleep_ms(ms)", "an int of milliseconds (for less than 1 ms use sleep_us(us))")


_TRUE = True  # (sleep_ms's check of a bool: a module global, read for 1 ms only)
_CHECKED = core.Context()  # check_threads: a context no tick sets (its tkit: core.NO_KIT)
_slot_of = core.current_slot
# What sleep_ms is bound to (its closure's cells, see _bind): the context it reads, the
# awaitable it returns after appending SLEEP with the append. _rebind keeps this in step.
_bound = [core.context, _ring_iter, _ring_append] if _ring is not None else \
    [core.context, _sleep, _no_ring]


def _bind(ctx, it, append, item):
    """``sleep_ms``, closed over what it reads besides its timer (``ctx``, the ring's ``it``
    and ``append``, ``item``: core.SLEEP), and the function that rebinds them.

    Design note: a viper function takes no default arguments, and each module global it reads
    is a dict probe, each item of a tuple a subscript (~90 instructions); a closure's variables
    are cells, one machine load each. MicroPython calls a closure without allocating while its
    cells and arguments are at most five words (``closure_call``): four cells and ``ms``. The
    timer comes from ``ctx.tkit`` (tick_fifo and the other ticks put their timer's ``_kit``
    there), which is never None: ``core.NO_KIT`` outside such a tick, whose first word (the
    longest sleep) is 0, so that the one compare that checks the range sends those sleeps to
    ``_sleep_ms_slow`` with no test of its own; inside one, ``ctx.slot`` is the task polled."""

    @micropython.viper
    def sleep_ms(ms):
        """Awaitable: wait at least ``ms`` milliseconds (rounded up to whole ticks). Allocates
        nothing. Raises ``NoTimer`` without a timer, ``DurationTooLong`` beyond its range.
        Tasks only (not ISR-safe)."""
        # Viper, with Timer.arm_ms's common case and TimerWheel.arm_after's placement (the
        # slack's rounding, the slot, the links, the counts) written out: one call per sleep,
        # and the integer operations are machine instructions (every value below 2**30).
        kit = ctx.tkit  # (_, wheel, wheel._w, _source, wheel._obj, Timer, _turn, wheel._ht)
        ws = ptr32(kit[2])  # the wheel's words (wheelroom.make_room): the Timer's constants
        if ws[_C_MAX_MS] == 0:  # (_max_ms, clock.per, _per_ms...), the clock's base, the lists
            return _sleep_ms_slow(ms)  # core.NO_KIT: not in a tick that gives the timer
        m = 0
        lo = ws[_W_HT]  # where viper compiles (these words are the heads' address), a
        hi = ws[_W_HT + 1]  # slot's words' address is an int: int() casts it, no buffer call
        try:  # (viper: the function's nlr handler, which its globals need anyway, serves it)
            m = int(ms)  # a float, None, a str raise TypeError here (MicroPython's conversion)
            slot = ctx.slot  # the polled task's slot, read before the guard word, so that a
            if lo | hi:  # loop of this timer that starts polling is seen; its words
                sw = ptr32(int(slot.wa))  # (task/words.py) hold its entry's number, wheel
            else:  # and deadline
                sw = ptr32(slot.wa)
        except TypeError:
            _not_ms(ms)
        except AttributeError:  # no slot: the tick that gave kit ended since (another
            return _sleep_ms_slow(ms)  # thread's call: its look-up raises NoCurrentTask)
        if m == 1:  # True converts too (False to 0: the slow way checks the type there)
            if ms is _TRUE:
                _not_ms(ms)
        if m <= 0 or m > ws[_C_MAX_MS]:
            return _sleep_ms_slow(ms)  # (Timer.arm_ms: a due entry, or DurationTooLong)
        if ws[_W_GUARD]:  # a foreground loop polls on its thread: is it this one?
            x = int(_get_ident())
            if (x & _MASK) != ws[_W_IDENT] or (((x >> 30) & 0xFFFFF) | 0x100000) != ws[_W_GUARD]:
                return _sleep_ms_slow(ms)  # another thread: its _slot_of raises NoCurrentTask
        el = (int(kit[3]()) - ws[_W_BASE]) & _MASK  # clock.elapsed(), inlined
        if el > _BACKSTEP_LIMIT:
            el = 0
        per = ws[_C_PER]
        if per != 1:
            el = (el + per - 1) // per  # a partial tick counts as whole: never early
        delta = el + m * ws[_C_PER_MS]  # > 0, at most MAX_TICKS + 1
        if sw[_W_TPOS] < _NONE:  # armed (slot.timer.pos >= 0): a sleep called, not awaited
            slot.timer.cancel()
        i = ws[_W_FREE]  # a number for the entry (TimerEntry.cancel gives it back)
        if i >= _NONE:
            wheel = kit[1]
            wheel._grow()  # (an allocation: TimerWheel.reserve avoids it)
            ws = ptr32(kit[2])
            i = ws[_W_FREE]
        b = _E + (i << 2)
        ws[_W_FREE] = ws[b]
        now = ws[_W_NOW]
        if m < ws[_C_SLACK_MS]:
            mask = ws[_C_SLACK]
        else:
            mask = int(kit[5].slack_mask(ms))
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
                if d & 63:  # not on the slot's start: it must cascade (wheelroom.make_room)
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
        if lo | hi:  # wheel._ht's address (wheelentry.note_ht), else the array: kit[7]
            ht = ptr16(lo | ((hi << 16) << 16))
            a = int(sw)  # a number this slot's last sleep left: wheel._obj holds the slot
            hi = (a >> 16) >> 16  # still (its words' address in its free words: hand_off)
            if ws[b + 1] != hi or ws[b + 3] != a - ((hi << 16) << 16):
                kit[4][i] = slot  # wheel._obj: a slot's own entry keeps its slot there
        else:
            ht = ptr16(kit[7])
            kit[4][i] = slot
        wid = ws[_W_ID]
        if sw[_W_TWHEEL] != wid:  # slot.timer.wheel is another wheel (or none yet)
            slot.timer.wheel = kit[1]
            sw[_W_TWHEEL] = wid
        sw[_W_TDL] = d  # slot.timer.deadline
        sw[_W_TPOS] = i  # slot.timer.pos
        tail = ht[_TAIL + pos]
        ws[b] = _NONE
        ws[b + 1] = tail
        ws[b + 2] = pos | _OWN  # the slot's own sleep entry (wheelpass.hand_off)
        ws[b + 3] = d
        if tail < _NONE:  # the slot has entries: link behind its tail
            ws[_E + (tail << 2)] = i
        else:
            ht[_HEAD + pos] = i
            ws[pos >> 4] |= 1 << (pos & 15)  # the slot's occupancy bit
        ht[_TAIL + pos] = i
        ws[_W_COUNT + level] += 1
        ws[_W_PENDING] += 1
        nxt = ws[_W_NEXT]  # -1 (unknown) reads as 2**32 - 1 on a 64-bit machine: above _MASK
        if nxt <= _MASK and ((nxt - now) & _MASK) > delta:
            ws[_W_NEXT] = -1  # earlier than the remembered next deadline (see place)
        append(item)  # the ring's append(core.SLEEP) (_ring's note)
        return it

    def rebind(new_ctx, new_it, new_append):
        nonlocal ctx, it, append
        ctx = new_ctx
        it = new_it
        append = new_append
        _bound[0] = new_ctx
        _bound[1] = new_it
        _bound[2] = new_append

    return sleep_ms, rebind


sleep_ms, _rebind = _bind(_bound[0], _bound[1], _bound[2], core.SLEEP)


_checks = [False, None]  # check_threads' on, guard_thread's slot_of (sched/loopthread.py)


def check_threads(on):
    """While ``on`` (a ThreadBackground's loop thread runs, or an executor's worker is
    registered: core.check_threads), the sleeps find their task by the calling thread
    (``core.task_slot``) and arm by ``Timer.arm_ms``: slower (docs/repl.md), but never the
    task another thread polls. Not ISR-safe."""
    global _slot_of
    _checks[0] = on
    _rebind(_CHECKED if on else core.context, _bound[1], _bound[2])
    _slot_of = core.task_slot if on else _checks[1] or core.current_slot


def guard_thread(slot_of):
    """While a foreground loop runs (``slot_of``: sched/loopthread.py's, else None), the sleeps
    that find their task through a call (``sleep_us``, ``sleep_until``, ``sleep_ms``'s slow way;
    on CPython ``sleep_ms`` too) find it through ``slot_of``, which raises ``NoCurrentTask`` on
    another thread than the loop's; ``sleep_ms``'s fast path sends such a call there (the
    loop's timer's words: loopthread's ``_guard_words``). Not ISR-safe."""
    global _slot_of
    _checks[1] = slot_of
    _slot_of = core.task_slot if _checks[0] else slot_of or core.current_slot


def _sleep_ms_slow(ms):
    # sleep_ms outside a tick that gives it the timer (an interrupt level, a stand-in timer,
    # check_threads), out of its viper range (0 ms or less, longer than the wheel), not in a
    # task at all, or on another thread than a guarding foreground loop's (_slot_of raises;
    # on an executor's worker it finds the worker's task: _sleep_ms_elsewhere's way, _Sleep)
    n = _moves[0]  # (read before the guard's state; again after: core.settled)
    ctx = _bound[0]
    slot = ctx.slot
    if slot is None or (_checks[1] is not None and _slot_of() is not slot) or _moves[0] != n:
        return _sleep_ms_elsewhere(ms)
    kit = ctx.tkit
    ring = True
    if kit is core.NO_KIT:
        timer = slot.sched.timer
        if timer is None:
            timer = timer_of(slot)  # raises NoTimer
        if slot.sched.level:
            ring = False  # an interrupt level: _Sleep (see _ring's note: asleep.py)
    else:
        timer = kit[5]
    if type(ms) is not int:
        _not_ms(ms)
    timer.arm_ms(slot.timer, ms)
    if ring:
        _bound[2](core.SLEEP)
        return _bound[1]
    return _sleep


if not port.IS_MICROPYTHON:  # CPython's int() takes floats and strs too: check the type first
    _sleep_ms = sleep_ms

    def sleep_ms(ms):
        """Awaitable: wait at least ``ms`` milliseconds (see the viper form above)."""
        if type(ms) is not int:
            _not_ms(ms)
        if _checks[1] is not None and _bound[0].slot is not None:
            _slot_of()  # (guard_thread: CPython checks the fast path's calls too)
        return _sleep_ms(ms)


def _slot_now():  # (the look-up as it is at the call: guard_thread rebinds it)
    return _slot_of()


def _sleep_ms_elsewhere(ms):
    n = _moves[0]  # (before the look-up is picked; again after it: core.settled)
    slot = _slot_of()  # raises NoCurrentTask
    if _moves[0] != n:
        slot = core.settled(_slot_now)
    timer = timer_of(slot)  # raises NoTimer
    if type(ms) is not int:
        _not_ms(ms)
    timer.arm_ms(slot.timer, ms)
    return _sleep


def sleep_us(us):
    """Awaitable: wait at least ``us`` microseconds (rounded up to whole ticks). Allocates
    nothing. Tasks only (not ISR-safe)."""
    int_arg(us, "sleep_us(us)", "an int of microseconds")
    n = _moves[0]
    slot = _slot_of()  # (raises NoCurrentTask)
    if _moves[0] != n:  # a foreground loop started or ended meanwhile: look again
        slot = core.settled(_slot_now)
    timer_of(slot).arm_us(slot.timer, us)
    return _sleep


def sleep_until(deadline):
    """Awaitable: wait until the timer's tick ``deadline`` (``timer.now()``, ``after_ms`` and
    ``Turn.now`` are ticks). A deadline in the past (``ticks_diff`` sense) waits for the next
    turn. Allocates nothing. Tasks only (not ISR-safe)."""
    int_arg(deadline, "sleep_until(deadline)", "an int: a timer tick such as "
            "timer.after_ms(100) or timer.now()")
    n = _moves[0]
    slot = _slot_of()  # (raises NoCurrentTask)
    if _moves[0] != n:  # a foreground loop started or ended meanwhile: look again
        slot = core.settled(_slot_now)
    timer_of(slot).arm_at(slot.timer, deadline)
    return _sleep


if core.threads_checked[0]:  # (imported while a loop thread or an executor's workers run)
    check_threads(True)
_lt = sys.modules.get("shimeji.sched.loopthread")  # (imported while a foreground loop runs)
if _lt is not None and _lt.guard() is not None:
    guard_thread(_lt.guard())
