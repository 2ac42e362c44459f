"""A design study, not shimeji's runtime: the tickless sleep path with every hot field of the
timer entry and the task slot in one flat ``array('i')`` indexed by slot number, and the
sleep, the poll, the park, the turn and the hand-off in viper (machine-word reads and writes
through ``ptr32``). It runs ``tools/instr.py``'s "tickless" workload (200 tasks x
``sleep_ms(1 + i % 7)`` on a µs clock that moves 2 µs per reading, the idle jumping the clock)
so that its instructions per fired timer compare with shimeji's own: ``tools/instr.py --only
"flat sleep prototype"``. docs/benchmarks.md, "Timers, round seven", has the figures.

What it keeps of the real path: the ring sleep (``core.new_yield_ring``: the task yields
``core.SLEEP`` and finishes its await without a call), ``sleep_ms``'s argument check, the
clock read and the slack's grid (64 µs), the wheel's five levels, placement, bitmaps, ``step``,
the cascade and the batch hand-off, never early, and the objects the run loop and the
scheduler keep up to date per poll and per iteration (``context.slot``, a ``Tick`` and a
``Turn``, the loop's and the scheduler's flags). What it leaves out: completion, cancel and
throw-in (a flag is read per poll), wakes from other threads (a slot's state is one word:
"asleep" is a state of its own, so a wake needs no second flag), traces, policies other than
FIFO, I/O. MicroPython only (viper).

Historical: round seven's study, kept because docs/benchmarks.md ("Timers, round seven") cites
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


class Turn:
    def __init__(self):
        self.now = 0
        self.expired = 0
        self.next_in_us = -1


clock = Moving()
sched = Sched()
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


@micropython.viper
def tick(sleep, s, ctx) -> int:
    """Poll every queued task once, FIFO; a task that yields SLEEP with its entry armed
    sleeps (one word), any other yield requeues it. Fills the scheduler's tick fields."""
    a = ptr32(A)  # noqa: F821
    coros = CORO
    slots = SLOTS
    polled = 0
    i = a[_RQH]
    a[_RQH] = _NONE
    a[_RQT] = _NONE
    while i < _NONE:
        nxt = a[_RUN + i]
        a[_STATE + i] = _RUNNING
        ctx.slot = slots[i]
        polled += 1
        try:
            r = coros[i].send(None)
        except StopIteration:  # a task ended: the loop stops after its main task or the last
            a[_STATE + i] = 0
            left = int(s.live) - 1
            s.live = left
            if i == int(s.main) or not left:
                s.stopping = True
            i = nxt
            continue
        stay = 1
        if r is sleep:
            if a[_POS + i] < _NONE and not a[_THROW + i]:
                a[_STATE + i] = _ASLEEP
                stay = 0
        if stay:
            a[_STATE + i] = _QUEUED
            a[_RUN + i] = _NONE
            t = a[_RQT]
            if t < _NONE:
                a[_RUN + t] = i
            else:
                a[_RQH] = i
            a[_RQT] = i
        i = nxt
    ctx.slot = None
    s.polled = polled
    s.woken = 0
    s.has_remaining = a[_RQH] < _NONE
    return polled


@micropython.viper
def hand_off(pos: int) -> int:
    """Every entry of the due list ``pos`` to the run queue, in one pass."""
    a = ptr32(A)  # noqa: F821
    i = a[_HEAD + pos]
    t = a[_RQT]
    n = 0
    while i < _NONE:
        nxt = a[_NEXT + i]
        a[_POS + i] = _NONE
        a[_STATE + i] = _QUEUED
        a[_RUN + i] = _NONE
        if t < _NONE:
            a[_RUN + t] = i
        else:
            a[_RQH] = i
        t = i
        n += 1
        i = nxt
    a[_RQT] = t
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
    for i in range(n):
        SLOTS[i] = Slot(sched, i)
        CORO[i] = coros[i]
        A[_STATE + i] = _QUEUED
        A[_RUN + i] = i + 1 if i < n - 1 else _NONE
    A[_RQH] = 0
    A[_RQT] = n - 1
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


def _compare(rounds):
    """This design and shimeji's tickless loop on bench_timers' workload (200 tasks x 20 sleeps
    of 1-7 ms, the same durations, scaled to the heap), interleaved: CPU ns per fired timer,
    wall minus idle. asyncio's figure comes from ``tools/bench.py --only timers`` (run in this
    process after the two, its loop measured 30-80 % slower than bench_timers' own run of it,
    cause not found: docs/benchmarks.md, "Timers, round seven")."""
    import gc
    import time

    from benchlib import Rng, fit, slot_cost

    from shimeji import StaticScheduler, Timer
    from shimeji import sleep_ms as shimeji_sleep_ms
    from shimeji.sched.runloop import RunLoop

    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    tasks = fit(200, slot_cost() + 400 + 20 * 2 * 4 * 4 * 2)  # (bench_timers' TASKS)
    durations = []
    for i in range(tasks):
        rng = Rng(1000 + i)
        durations.append([1 + rng.below(7) for _ in range(20)])

    def timed(make_loop):
        late = []
        idle = [0]

        def timed_idle(us):
            i0 = ticks_us()
            time.sleep_us(us)
            idle[0] += ticks_diff(ticks_us(), i0)

        def sleeper_of(sleep):
            async def sleeper(ds):
                for d in ds:
                    t0 = ticks_us()
                    await sleep(d)
                    late.append(ticks_diff(ticks_us(), t0) - d * 1000)
            return sleeper

        gc.collect()
        t0 = ticks_us()
        make_loop(sleeper_of, timed_idle)
        wall = ticks_diff(ticks_us(), t0)
        return (wall - idle[0]) * 1000 / len(late), min(late)

    def shimeji_loop(sleeper_of, timed_idle):
        s = StaticScheduler(tasks + 1, timer=Timer(tick_us=1))
        sleeper = sleeper_of(shimeji_sleep_ms)

        async def main():
            for ds in durations:
                s.spawn_detached(sleeper(ds))
            while s.live_count() > 1:
                await shimeji_sleep_ms(10)

        RunLoop(s, idle=timed_idle, max_idle_us=None).run(s.spawn(main()))

    def proto_loop(sleeper_of, timed_idle):
        sleeper = sleeper_of(sleep_ms)
        A[_W_BASE] = ticks_us() & _MASK  # (the wheel masks every reading: as a Timer's clock)
        _start([sleeper(ds) for ds in durations], ticks_us)
        run_loop(sched, ticks_us, timed_idle)

    for _ in range(rounds):
        p, pe = timed(proto_loop)
        t, te = timed(shimeji_loop)
        print("%d tasks, CPU ns per fired timer: flat prototype %d (earliest %+d us), shimeji "
              "tickless %d (%+d us): the prototype at %.2fx shimeji's" % (tasks, p, pe, t, te,
                                                                          p / t))


if __name__ == "__main__":
    import sys

    _compare(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
