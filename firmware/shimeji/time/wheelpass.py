"""The wheel's one-pass slot walks (``TimerWheel`` calls them; not public API).

``step``: the next occupied slot. ``earliest``: the earliest deadline in a far slot, for an idle
wait. ``hand_off``: every task entry of a due slot goes to its scheduler's wake inbox in one
pass, with the scheduler's wake written in line. (The cascade is in wheelplace.py.) Each is
one call per slot, whatever the number of entries: a Python-level call costs more here than
the linking it would wrap. Each takes the wheel as ``self``, as the methods they were.
"""

import micropython
from micropython import const

from .. import port

if not port.IS_MICROPYTHON:

    def ptr8(buf):
        """Viper's ``ptr8(buf)`` cast, for CPython: index the bytearray itself."""
        return buf

    ptr32 = ptr8  # (the wheel's array of "i")
    ptr16 = ptr8  # (its heads and tails, "H")


_CS_BATCH = const(16)  # entries handed off per critical section at most
_EXACT_WALK = const(8)  # entries of a far slot ``earliest`` looks through at most
_MASK = const(0x3FFFFFFF)
_LEVELS = const(5)
_W_COUNT = const(20)  # TimerWheel._w's indexes (wheel.py)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_NEXT = const(28)
_W_STEP = const(29)
_W_FREE = const(37)
_W_HT = const(49)  # _ht's address, low and high 32 bits (0, 0: not known; wheelentry.note_ht)
_HEAD = const(0)
_TAIL = const(321)
_E = const(52)
_OWN = const(0x400)
_NONE = const(0xFFFF)

# _CTZ8[b]: index of the lowest set bit of the byte b (b > 0). A bytes constant: frozen, it
# stays in flash (a bytearray filled at import kept 272 B of heap).
_CTZ8 = (
    b"\0\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\5\0\1\0\2\0\1\0\3\0\1"
    b"\0\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\6\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0"
    b"\1\0\3\0\1\0\2\0\1\0\5\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\7"
    b"\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\5\0\1\0\2\0\1\0\3\0\1\0"
    b"\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\6\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0\1"
    b"\0\3\0\1\0\2\0\1\0\5\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0\4\0\1\0\2\0\1\0\3\0\1\0\2\0\1\0"
)
# Task slot states (task/slot.py), repeated: the wheel must not import the task package.
_QUEUED = const(1)
_RUNNING = const(2)
_WAITING = const(3)
_ASLEEP = const(4)
_W_TPOS = const(4)  # a task slot's words (task/words.py): its own entry's number
_NIL = None  # (viper compares objects with an object None)
_YES = True  # (and a flag with an object True: `is`, a pointer compare)


@micropython.viper
def hand_off(self, pos: int, level: int, hint) -> int:
    """Batch hand-off: move every task entry of list ``pos`` (on ``level``; all due now) to
    its scheduler's run queue in one pass; entries with a callback stay in the slot, in
    order, for ``TimerWheel._drain``. Each entry is unlinked, its number freed and its slot
    linked in line (a wake without the call). Returns the number handed off. ``hint``: a
    scheduler whose caller saw it between ticks with an empty inbox (``RunLoop.run()``'s lean
    loop, right before this turn; else None): for it the pass tests only its queue and trace.

    Where: between ticks, on the run loop's thread (turn's), a FIFO scheduler's run queue is
    the loop's alone, so a task goes straight into it if the inbox was empty when the pass
    came to the scheduler (else through the inbox, behind the wakes in it; a wake that an
    interrupt adds during the pass is concurrent with these and may land behind them);
    otherwise into the wake inbox. Tasks linked straight get their ``run_next`` links as
    the next one comes, the last one's cleared once at the end. How: a task parked on
    the ring sleep (state ``ASLEEP``) and going straight into the queue needs no critical
    section: ``wake()`` ignores ASLEEP and this writes QUEUED in one store, so a wake from
    elsewhere finds the sleep (ignored) or the task queued (a no-op); one read of the state
    is the whole check. Any other entry takes the scheduler's section, one per
    ``_CS_BATCH`` entries (a board masks interrupts no longer than that). Viper: the list,
    the links, the kind of entry (a slot's own sleep entry: ``_OWN`` in its list word) and
    the counts are machine words; an ``is`` between objects stays a runtime call, as in
    native code (``is not``: two). A ring sleeper's number goes back to the free list in the
    order its task is queued, tagged with the address of its slot's words (its prev and
    deadline words; every other way a number is freed writes ``_NONE`` in its prev word), so
    that the task's next ``sleep_ms``, which takes it first, finds its own tag and leaves
    ``_obj`` as it is (where viper compiles: the heads' address words are set)."""
    nil = _NIL
    yes = _YES
    ws = ptr32(self._w)
    lo = ws[_W_HT]
    hi = ws[_W_HT + 1]
    tag = lo | hi  # (note_ht: no attribute load, no buffer call; and the numbers' tags)
    if tag:
        ht = ptr16(lo | ((hi << 16) << 16))
    else:
        ht = ptr16(self._ht)
    objs = self._obj
    i = ht[_HEAD + pos]
    free = ws[_W_FREE]
    qh = _NONE  # the ring sleepers' numbers, freed in the order their tasks are queued
    qt = _NONE
    kept = _NONE  # the callback entries, relinked in their order
    kt = _NONE
    sched = nil  # the scheduler whose section is held
    state = nil
    direct = nil  # the scheduler whose FIFO queue the hand-off may link into directly
    fifo = nil  # its queue
    last = nil  # its tail, kept here while this pass links (stored back on a change)
    timed = 0  # the tasks linked into it, added to its _woken_timer once
    seen = nil  # the scheduler ``direct`` was last decided for
    # Whether ``direct`` and ``last`` are set, as machine words: once ``s is seen``, ``s is
    # direct`` is ``dflag`` (direct is decided with seen), and these tests per entry are
    # compares, not an ``is`` (a runtime call, and one more for the branch) each.
    dflag = 0
    counted = 1
    nlast = 0
    n = 0
    held = 0
    while i < _NONE:  # (no `is not` on the way of an entry: in viper each is a second call)
        b = _E + (i << 2)
        nxt = ws[b]
        own = ws[b + 2] & _OWN
        e = objs[i]  # (a slot's own entry: its slot, see place; else the entry)
        s = nil
        if own:  # a slot's own entry has its slot (sleep_ms, TimerWheel.arm_after)
            slot = e
            s = slot.sched
        else:
            slot = e.slot
            if slot is nil:
                pass
            else:
                s = slot.sched
        fast = 0  # s is direct: an entry of the scheduler decided for (one ``is`` for most)
        if s is seen:  # (the entry before's scheduler; or None again, never decided: dflag 0)
            fast = dflag
        elif s is nil:
            pass
        else:
            if dflag:
                if nlast:
                    last.run_next = nil  # the queue ends there (FifoPolicy.add's store)
                direct._fifo.tail = last
                if counted:
                    direct._woken_timer = int(direct._woken_timer) + timed
                timed = 0
            seen = s
            fifo = s._fifo
            dflag = 1
            counted = 1  # (not for the hint's: RunLoop.run()'s lean loop reads no count)
            if fifo is nil or s._trace is not nil:
                dflag = 0
            elif s is hint:  # (no ``is not``: two runtime calls in viper)
                counted = 0
            elif s._polling is yes or s.parallel is yes or s._inbox_head is not nil:
                dflag = 0
            if dflag:
                direct = s
                last = fifo.tail
                nlast = 0 if last is nil else 1
            else:
                direct = nil
            fast = dflag
        if own and fast:
            if tag:  # the slot's words (task/words.py): its state, word 0 (an int address
                sw = ptr32(int(slot.wa))  # where viper compiles: no buffer call)
            else:
                sw = ptr32(slot.wa)
            if sw[0] == _ASLEEP:
                # A ring sleeper's own entry (a slot's timer entry has no callback).
                n += 1
                sw[0] = _QUEUED  # first (see above)
                sw[_W_TPOS] = _NONE  # (slot.timer.pos: -1)
                if tag:  # the slot stays in _obj: its words' address tags the number
                    a = int(sw)  # (sleep_ms then leaves _obj as it is: the tag matches)
                    hi = (a >> 16) >> 16
                    ws[b + 1] = hi
                    ws[b + 3] = a - ((hi << 16) << 16)
                if qt < _NONE:  # back on the free list, in queue order (first out first)
                    ws[_E + (qt << 2)] = i
                else:
                    qh = i
                qt = i
                if nlast:  # FifoPolicy.add, inlined (the tail's run_next: at the end)
                    last.run_next = slot
                else:
                    fifo.head = slot
                    nlast = 1
                last = slot
                timed += 1  # for the loop's next _end_tick, no section
                i = nxt
                continue
        if own:
            pass  # (a slot's timer has no callback)
        elif e.callback is not nil:
            ws[b] = _NONE
            ws[b + 1] = kt
            if kt < _NONE:
                ws[_E + (kt << 2)] = i
            else:
                kept = i
            kt = i
            i = nxt
            continue
        n += 1
        if own:
            sw = ptr32(slot.wa)
            sw[_W_TPOS] = _NONE
        else:
            e.pos = -1
        ws[b] = free
        ws[b + 1] = _NONE  # (no tag: see the ring sleepers' above)
        free = i
        objs[i] = nil
        if s is nil:
            i = nxt
            continue
        if s is not sched or held == _CS_BATCH:
            if sched is not nil:
                sched._exit(state)
            sched = s
            state = s._enter()
            held = 0
        held += 1
        sw = ptr32(slot.wa)  # (task/words.py)
        st = sw[0]
        if st == _ASLEEP and own:  # a ring sleep waits for its own entry only (core.SLEEP)
            st = _WAITING  # ...which fired: it ends
        if st == _WAITING:  # StaticScheduler.wake, inlined
            sw[0] = _QUEUED
            if dflag and s._inbox_head is nil:  # (s is seen here: ``s is direct``)
                if nlast:  # FifoPolicy.add, inlined
                    last.run_next = slot
                else:
                    fifo.head = slot
                    nlast = 1
                last = slot
                timed += 1
            else:
                slot.inbox_next = nil
                tail = s._inbox_tail
                if tail is nil:
                    s._inbox_head = slot
                else:
                    tail.inbox_next = slot
                s._inbox_tail = slot
                ptr32(s._news)[0] = 1  # (tick_fifo reads this one word per poll)
                if s._polling is yes:
                    s._local_ok = False  # spawns follow it (sched/lifecycle.py's spawn)
                    s._woken_int = int(s._woken_int) + 1
                else:
                    s._woken_ext = int(s._woken_ext) + 1
            trace = s._trace
            if trace is not nil:
                trace.timer_woke(slot)
        elif st == _RUNNING:
            sw[2] = 1  # rewoken (task/words.py)
        i = nxt
    if dflag:
        if nlast:
            last.run_next = nil
        fifo.tail = last
        if counted:
            direct._woken_timer = int(direct._woken_timer) + timed
    if sched is not nil:
        sched._exit(state)
    if qt < _NONE:
        ws[_E + (qt << 2)] = free
        free = qh
    ws[_W_FREE] = free
    ht[_HEAD + pos] = kept
    ht[_TAIL + pos] = kt
    ws[_W_COUNT + level] -= n
    ws[_W_PENDING] -= n
    return n


@micropython.native
def earliest(self, pos, k):
    """Ticks to the earliest deadline in the far slot ``pos`` that ``next_in_ticks()`` found
    ``k`` ticks ahead (where it cascades); ``k`` itself if the slot holds more than
    ``_EXACT_WALK`` entries. Never later than a deadline."""
    ws = self._w
    now = ws[_W_NOW]
    i = self._ht[_HEAD + pos]
    best = -1
    n = 0
    while i < _NONE:
        n += 1
        if n > _EXACT_WALK:
            return k
        d = (ws[_E + 4 * i + 3] - now) & _MASK
        if d <= k:
            return k  # at the slot's start (a deadline on a slack grid): none is earlier
        if best < 0 or d < best:
            best = d
        i = ws[_E + 4 * i]
    return best if best > k else k


@micropython.viper
def step(self) -> int:
    """Ticks from ``now`` to the start of the first occupied slot (due list aside), or -1
    if none; its list index is left in the wheel's ``_W_STEP`` word. Viper: the bit
    arithmetic is machine instructions, and the wheel's array and the lowest-bit table are
    read through pointers."""
    ws = ptr32(self._w)
    level = 0
    while not ws[_W_COUNT + level]:
        level += 1
        if level == _LEVELS:
            return -1
    ctz8 = ptr8(_CTZ8)
    now = ws[_W_NOW]
    shift = level * 6
    base = level << 2
    start = ((now >> shift) & 63) + 1  # the first slot after now's
    j = -1
    w = start >> 4
    if w < 4:
        bits = ws[base + w] >> (start & 15)
        if bits:
            low = bits & 0xFF
            j = start + (ctz8[low] if low else 8 + ctz8[bits >> 8])
        else:
            w += 1
    while j < 0 and w < 4:
        bits = ws[base + w]
        if bits:
            low = bits & 0xFF
            j = (w << 4) + (ctz8[low] if low else 8 + ctz8[bits >> 8])
        w += 1
    if j < 0 and level == 4:  # the top level is a circle
        w = 0
        while j < 0 and w < 4:
            bits = ws[base + w]
            if bits:
                low = bits & 0xFF
                j = (w << 4) + (ctz8[low] if low else 8 + ctz8[bits >> 8])
            w += 1
    ws[_W_STEP] = (level << 6) | j
    if level == 4:
        return ((j << 24) - now) & _MASK
    span = 64 << shift
    return ((now & (0 - span)) | (j << shift)) - now
