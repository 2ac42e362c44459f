"""A design study, not shimeji's runtime: ``proto_flat_sleep.py``'s wheel in words (the timer
entry's list links, list index and deadline in one flat ``array('i')`` indexed by slot number,
``sleep_ms``, the turn, the cascade in viper), with the task slot as an object, as today: its
``state``, ``sleeping`` and ``rewoken`` fields, the FIFO run queue linked through ``run_next``,
``coro`` and ``throw_exc`` attributes. The tick is the runtime's ``tick_fifo`` in outline
(native code, the queue a ring of slot objects), the hand-off links slot objects into it.
What it measures: the redesign's step "the wheel in words" alone, without the slot's fields
(``tools/instr.py --only "wheel words prototype"``; docs/benchmarks.md, "Timers, round
eight"). MicroPython only (viper).

Historical: round eight's study, kept because docs/benchmarks.md ("Timers, round eight") cites
its figures and ``tools/instr.py`` runs it; not kept in step with the runtime (the runtime has
moved on since), so its figures are that round's. ``host_tests/test_bench_prototypes.py``
checks that it still runs.
"""

from array import array

import micropython
from micropython import const

from shimeji import core

_MASK = const(0x3FFFFFFF)
_SLOTS = const(256)
# The one array's layout: the wheel's integers first (as TimerWheel._w), then per-list heads
# and tails (5 levels x 64 slots + the due list), then one field per slot number.
_W_COUNT = const(20)
_W_NOW = const(26)
_W_PENDING = const(27)
_W_STEP = const(29)
_W_BASE = const(32)
_W_RAG = const(33)
_CUR = const(40)  # the slot being polled
_RQH = const(41)  # the FIFO run queue, linked through _RUN (a number >= _NONE: none)
_RQT = const(42)
_HEAD = const(64)
_TAIL = const(400)
_NEXT = const(800)  # the entry's links in its wheel list
_PREV = const(_NEXT + _SLOTS)
_POS = const(_PREV + _SLOTS)  # the entry's list index (>= _NONE: not armed)
_DL = const(_POS + _SLOTS)  # its deadline tick
_STATE = const(_DL + _SLOTS)
_RUN = const(_STATE + _SLOTS)
_THROW = const(_RUN + _SLOTS)  # an exception waits to be thrown in
_LEN = const(_THROW + _SLOTS)
_NONE = const(0x1000)  # "no slot" (a -1 would read as 2**32 - 1 through ptr32 on 64-bit only)
_SLACK = const(63)  # the default slack's grid on a µs timer: 64 ticks
_QUEUED = const(1)
_RUNNING = const(2)
_WAITING = const(3)
_ASLEEP = const(4)

A = array("i", [_NONE] * _LEN)
for _i in range(_HEAD):
    A[_i] = 0
for _i in range(_SLOTS):
    A[_STATE + _i] = 0
    A[_THROW + _i] = 0
CORO = [None] * _SLOTS
SLOTS = [None] * _SLOTS

_CTZ8 = bytearray(256)  # index of the lowest set bit of a byte (wheelpass.py's)
for _b in range(1, 256):
    _n = 0
    while not (_b >> _n) & 1:
        _n += 1
    _CTZ8[_b] = _n


class Moving:
    """instr.py's clock: 2 µs per reading; the idle jumps it."""

    def __init__(self):
        self.t = 0

    def read(self):
        t = self.t
        self.t = (t + 2) & 0x3FFFFFFF
        return t

    def idle(self, us):
        self.t = (self.t + us) & 0x3FFFFFFF


class Sched:
    """The scheduler's per-tick fields the real tick reads and writes (its Tick's too)."""

    def __init__(self):
        self.level = 0
        self.timer = None
        self.pending = False
        self.polled = 0
        self.woken = 0
        self.has_remaining = False
        self.stopping = False
        self.iterations = 0
        self.live = 0  # tasks not ended
        self.main = -1  # the slot whose end stops the loop


class Slot:
    def __init__(self, sched, n):
        self.sched = sched
        self.n = n
        self.state = 0
        self.sleeping = False
        self.rewoken = False
        self.run_next = None
        self.throw_exc = None
        self.coro = None


class Fifo:
    def __init__(self):
        self.head = None
        self.tail = None


class Turn:
    def __init__(self):
        self.now = 0
        self.expired = 0
        self.next_in_us = -1


clock = Moving()
sched = Sched()
fifo = Fifo()
turn_obj = Turn()
_ring = core.new_yield_ring()
_G = (None, type, int, _ring[1] if _ring else None, _ring[0] if _ring else None, core.SLEEP,
      clock.read, A, core.context)


@micropython.viper
def sleep_ms(ms):
    """Arm the current task's entry ``ms`` ms ahead on the slack's grid; await the ring."""
    g = _G
    nil = g[0]
    slot = g[8].slot  # as the real sleep_ms: the context's slot, its scheduler, its timer
    s = slot.sched
    if s.timer is not nil:
        pass
    if g[1](ms) is not g[2]:
        raise TypeError("sleep_ms(ms): an int")
    m = int(ms)
    a = ptr32(g[7])  # noqa: F821
    i = int(slot.n)
    el = (int(g[6]()) - a[_W_BASE]) & _MASK
    delta = el + m * 1000
    now = a[_W_NOW]
    r = ((now & _SLACK) + (delta & _SLACK)) & _SLACK
    if r:
        delta += _SLACK + 1 - r
    d = now - _MASK + delta
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
            if d & 63:
                a[_W_RAG + ((d >> 10) & 3)] |= 1 << ((d >> 6) & 15)
        elif x < 0x40000:
            level = 2
            pos = 128 | ((d >> 12) & 63)
        elif x < 0x1000000:
            level = 3
            pos = 192 | ((d >> 18) & 63)
        else:
            level = 4
            pos = 256 | (d >> 24)
    a[_DL + i] = d
    a[_POS + i] = pos
    tail = a[_TAIL + pos]
    a[_PREV + i] = tail
    a[_NEXT + i] = _NONE
    if tail < _NONE:
        a[_NEXT + tail] = i
    else:
        a[_HEAD + pos] = i
        a[pos >> 4] |= 1 << (pos & 15)
    a[_TAIL + pos] = i
    a[_W_COUNT + level] += 1
    a[_W_PENDING] += 1
    if s.level:
        return nil
    g[4](g[5])
    return g[3]


@micropython.native
def tick(sleep, s, ctx, _stop=StopIteration):
    """Poll every queued task once, FIFO, the queue a ring of slot objects (tick_fifo's
    outline); a task that yields SLEEP with its entry armed (a word) parks: three fields."""
    f = fifo
    head = f.head
    tail = f.tail
    if tail is not None:
        tail.run_next = head
    polled = 0
    left = 1000000  # (tick_fifo's n: the RunLoop's tick_size)
    a = A
    stays = False
    while left:
        if stays:
            tail = head
            head = head.run_next
            stays = False
        elif head is None:
            break
        slot = head
        left -= 1
        slot.state = _RUNNING
        ctx.slot = slot
        polled += 1
        try:
            r = slot.coro.send(None)
        except _stop:
            slot.state = 0
            lv = s.live - 1
            s.live = lv
            if slot.n == s.main or not lv:
                s.stopping = True
            nxt = slot.run_next
            if nxt is slot:
                head = None
                tail = None
            else:
                tail.run_next = nxt
                head = nxt
            continue
        if r is sleep:
            if a[_POS + slot.n] < _NONE and slot.throw_exc is None:
                slot.rewoken = False
                slot.sleeping = True
                slot.state = _WAITING
                nxt = slot.run_next
                if nxt is slot:
                    head = None
                    tail = None
                else:
                    tail.run_next = nxt
                    head = nxt
                continue
        slot.state = _QUEUED
        stays = True
    if stays:
        tail = head
        head = head.run_next
    if tail is not None:
        tail.run_next = None
    f.head = head
    f.tail = tail
    ctx.slot = None
    s.polled = polled
    s.woken = 0
    s.has_remaining = head is not None
    return polled


@micropython.viper
def hand_off(pos: int) -> int:
    """Every entry of the due list ``pos`` to the run queue, in one pass: its slot object
    linked at the FIFO's tail (state, sleeping, run_next: fields, as the runtime's)."""
    a = ptr32(A)  # noqa: F821
    slots = SLOTS
    nil = _G[0]
    f = fifo
    last = f.tail
    i = a[_HEAD + pos]
    n = 0
    while i < _NONE:
        nxt = a[_NEXT + i]
        a[_POS + i] = _NONE
        slot = slots[i]
        slot.state = _QUEUED
        slot.sleeping = False
        if last is nil:
            f.head = slot
        else:
            last.run_next = slot
        last = slot
        n += 1
        i = nxt
    if last is not nil:
        last.run_next = nil
    f.tail = last
    a[_HEAD + pos] = _NONE
    a[_TAIL + pos] = _NONE
    a[_W_COUNT + (pos >> 6)] -= n
    a[_W_PENDING] -= n
    return n


@micropython.viper
def cascade(pos: int):
    """The far list ``pos`` that ``now`` reached: each entry moves down (those due stay)."""
    a = ptr32(A)  # noqa: F821
    now = a[_W_NOW]
    i = a[_HEAD + pos]
    kept = _NONE
    kt = _NONE
    moved = 0
    while i < _NONE:
        nxt = a[_NEXT + i]
        d = a[_DL + i]
        a[_NEXT + i] = _NONE
        if d == now:
            a[_PREV + i] = kt
            if kt < _NONE:
                a[_NEXT + kt] = i
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
            if d & 63:
                a[_W_RAG + ((d >> 10) & 3)] |= 1 << ((d >> 6) & 15)
        elif x < 0x40000:
            lv = 2
            p = 128 | ((d >> 12) & 63)
        else:
            lv = 3
            p = 192 | ((d >> 18) & 63)
        a[_POS + i] = p
        tail = a[_TAIL + p]
        a[_PREV + i] = tail
        if tail < _NONE:
            a[_NEXT + tail] = i
        else:
            a[_HEAD + p] = i
            a[p >> 4] |= 1 << (p & 15)
        a[_TAIL + p] = i
        a[_W_COUNT + lv] += 1
        moved += 1
        i = nxt
    a[_HEAD + pos] = kept
    a[_TAIL + pos] = kt
    a[_W_COUNT + (pos >> 6)] -= moved


@micropython.viper
def step() -> int:
    """wheelpass.step: ticks to the first occupied list's start; its index in _W_STEP."""
    ws = ptr32(A)  # noqa: F821
    level = 0
    while not ws[_W_COUNT + level]:
        level += 1
        if level == 5:
            return -1
    ctz8 = ptr8(_CTZ8)  # noqa: F821
    now = ws[_W_NOW]
    shift = level * 6
    base = level << 2
    start = ((now >> shift) & 63) + 1
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
    ws[_W_STEP] = (level << 6) | j
    if level == 4:
        return ((j << 24) - now) & _MASK
    span = 64 << shift
    return ((now & (0 - span)) | (j << shift)) - now


@micropython.viper
def turn(read, t, s) -> int:
    """Advance to the clock's now, handing off what is due; fills the Turn. Returns µs to the
    next list to visit, -1 if none is armed, -2 if something fired."""
    a = ptr32(A)  # noqa: F821
    base = a[_W_BASE]
    n = (int(read()) - base) & _MASK
    a[_W_BASE] = (base + n) & _MASK
    s.pending = False  # (Timer.turn clears its ``pending`` flag)
    fired = 0
    k = -1
    while a[_W_PENDING]:
        gap = int(step())
        if gap > n:
            k = gap - n
            break
        n -= gap
        a[_W_NOW] = (a[_W_NOW] + gap) & _MASK
        pos = a[_W_STEP]
        rag = (a[_W_RAG + ((pos >> 4) & 3)] >> (pos & 15)) & 1
        if pos >= 128 or (pos >= 64 and rag):
            cascade(pos)
            if pos < 128:
                a[_W_RAG + ((pos >> 4) & 3)] &= 0xFFFF ^ (1 << (pos & 15))
        fired += int(hand_off(pos))
        a[pos >> 4] &= 0xFFFF ^ (1 << (pos & 15))
    a[_W_NOW] = (a[_W_NOW] + n) & _MASK
    t.now = a[_W_NOW]
    t.expired = fired
    t.next_in_us = k
    if fired:
        return -2
    return k


@micropython.native
def run_loop(s, read, idle):
    """RunLoop.run's loop for this design: tick, turn, idle to the next list, turn, until a
    task stops it."""
    sleep = core.SLEEP
    ctx = core.context
    t = turn_obj
    while not s.stopping:
        i = s.iterations
        s.iterations = i + 1 if i < _MASK else 0
        tick(sleep, s, ctx)
        if s.stopping:
            return
        k = turn(read, t, s)
        if k == -2 or s.has_remaining:
            continue
        if k > 0:
            idle(k)
        turn(read, t, s)


def _start(coros, read):
    global _G
    _G = _G[:6] + (read,) + _G[7:]
    n = len(coros)
    prev = None
    for i in range(n):
        slot = Slot(sched, i)
        SLOTS[i] = slot
        slot.coro = coros[i]
        slot.state = _QUEUED
        if prev is None:
            fifo.head = slot
        else:
            prev.run_next = slot
        prev = slot
    fifo.tail = prev
    sched.live = n
    sched.stopping = False


def run(n, tasks=200):
    """instr.py's workload: ``tasks`` sleepers (``sleep_ms(1 + i % 7)`` forever) and a main
    task that checks every 10 ms whether ``n`` sleeps ended; the loop runs until main ends.
    Returns the sleeps counted."""
    fired = [0]

    async def sleeper(i):
        ms = 1 + i % 7
        while True:
            await sleep_ms(ms)
            fired[0] += 1

    async def main():
        while fired[0] < n:
            await sleep_ms(10)

    _start([sleeper(i) for i in range(tasks)] + [main()], clock.read)
    sched.main = tasks
    run_loop(sched, clock.read, clock.idle)
    return fired[0]
