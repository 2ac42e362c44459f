"""timers: 200 tasks (fewer where the heap is smaller) each sleeping 20 times for 1-7 ms on the
real clock. Wake-up lateness (µs after the requested duration: p50 / p99 / max, and the
earliest wake, which must never be negative for shimeji) and CPU time per timer fired (the
run's wall time minus the time the loop slept while idle, divided by the sleeps).

shimeji, tickless (what the tickless boards run): ``sleep_ms`` on a µs ``Timer``
(``tick_us=1``) driven by ``RunLoop``, which idles exactly until the next deadline (the idle
timed by wrapping the idle primitive). For reference, periodic: a ``Timer`` of 1 ms ticks (like
asyncio's ``ticks_ms``) and of 100 µs ticks, run by a hand-written loop (turn, tick, sleep until
the next deadline). asyncio: ``sleep_ms``; its idle sleep is timed by wrapping its loop's
``wait_io_event``.

Pairing: ``ROUNDS`` rounds of the four ways, interleaved, the order reversed every other round
(tickless first, then asyncio first), so that no way is always measured first or last; each
way's lateness samples are pooled over its rounds and its CPU figure is its smallest round's.
On this two-core shared host a run's p99 is set by whether the kernel woke the process late in
it (docs/benchmarks.md, "Lateness tails, session 21"): six rounds (two where the heap is
small) sample such moments for both runtimes alike, and the note gives each runtime's p99 of
every round, in order, beside the pooled one (one round with a stall of a few ms is enough to
lift the tickless p99 pooled over six past half of asyncio's: docs/benchmarks.md, "Session 26:
the latency tails")."""

import gc
import sys
import time

import benchlib
from benchlib import Rng, big_heap, emit, fit, slot_cost

try:
    from shimeji import StaticScheduler, Timer, sleep_ms
    from shimeji.sched.runloop import RunLoop
except ImportError:
    Timer = None

SLEEPS = 20
IS_MP = sys.implementation.name == "micropython"


ROUNDS = 6 if big_heap() else 2  # (a board: its heap and its time)
# Per task: a slot, its coroutine and durations, and its lateness samples (4 ways, ROUNDS runs).
TASKS = fit(200, slot_cost() + 400 + SLEEPS * 2 * 4 * 4 * ROUNDS) if Timer else 200

if IS_MP:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    sleep_us = time.sleep_us
else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_us(us):
        time.sleep(us / 1e6)


def durations(i):
    rng = Rng(1000 + i)
    return [1 + rng.below(7) for _ in range(SLEEPS)]


MEAN_MS = [4.0]  # the sleeps' mean in ms, set by run_tickless from its durations (no garbage
#                  drawn at import: on the RP2040 that cut the heap the runs' lists then needed)


def offered_load(cpu_ns):
    """The CPU the workload asks for, as a fraction of the CPU: sleeps asked per second
    (``TASKS`` sleepers of ``MEAN_MS`` each) times CPU ns per fired timer. Above 1 the CPU
    cannot serve the wakes as they fall due, and the lateness is the queue's (the RP2040 in
    rp2040js: docs/boards.md, "Sleep lateness on the RP2040")."""
    return cpu_ns * TASKS / (MEAN_MS[0] * 1e6)


def summary(samples):
    s = sorted(samples)
    n = len(s)
    return s[n // 2], s[min(n - 1, (n * 99) // 100)], s[-1], s[0]


class Samples:
    """A run's lateness samples, in a list made before the run's tasks: a list grown by
    ``append`` during the run asks for ever larger blocks (4 KB at 1,024 samples) of a heap its
    small objects fragment, which ran out on the qemu firmware (MemoryError in asyncio's run)."""

    def __init__(self):
        self.v = [0] * (TASKS * SLEEPS)
        self.n = 0

    def add(self, x):
        self.v[self.n] = x
        self.n += 1

    def all(self):
        return self.v[: self.n]


def run_shimeji(tick_us):
    timer = Timer(tick_us=tick_us)
    s = StaticScheduler(TASKS, timer=timer)
    late = Samples()

    async def sleeper(ds):
        for d in ds:
            t0 = ticks_us()
            await sleep_ms(d)
            late.add(ticks_diff(ticks_us(), t0) - d * 1000)

    for i in range(TASKS):
        s.spawn_detached(sleeper(durations(i)))
    idle = 0
    gc.collect()
    t0 = ticks_us()
    while s.live_count():
        turn = timer.turn()
        if not s.tick().has_remaining:
            nxt = timer.next_in_us()
            if nxt > 0:
                i0 = ticks_us()
                sleep_us(nxt)
                idle += ticks_diff(ticks_us(), i0)
    wall = ticks_diff(ticks_us(), t0)
    del turn
    return late.all(), (wall - idle) * 1000 / late.n


def run_tickless():
    timer = Timer(tick_us=1)
    s = StaticScheduler(TASKS + 1, timer=timer)
    late = Samples()
    idle = [0]

    def timed_idle(us):
        i0 = ticks_us()
        sleep_us(us)
        idle[0] += ticks_diff(ticks_us(), i0)

    async def sleeper(ds):
        for d in ds:
            t0 = ticks_us()
            await sleep_ms(d)
            late.add(ticks_diff(ticks_us(), t0) - d * 1000)

    ds = [durations(i) for i in range(TASKS)]  # before t0: not CPU per timer (asyncio's too)
    MEAN_MS[0] = sum(sum(d) for d in ds) / (TASKS * SLEEPS)

    async def main():
        for d in ds:
            s.spawn_detached(sleeper(d))
        ds.clear()  # each list dies with its sleeper, as before: the heap needs them back
        while s.live_count() > 1:
            await sleep_ms(10)

    loop = RunLoop(s, idle=timed_idle, max_idle_us=None)
    gc.collect()
    t0 = ticks_us()
    loop.run(s.spawn(main()))
    wall = ticks_diff(ticks_us(), t0)
    return late.all(), (wall - idle[0]) * 1000 / late.n


def bytes_per_fired_timer():
    """Heap bytes per fired sleep in the tickless loop's steady state, on a fake clock."""
    from benchlib import mem_delta

    from shimeji import FakeClock

    clock = FakeClock()
    timer = Timer(clock, tick_us=1)
    s = StaticScheduler(TASKS, timer=timer)
    fired = [0]

    def idle(us):
        clock.advance_us(us)

    async def sleeper(i):
        ms = 1 + i % 7
        while True:
            await sleep_ms(ms)
            fired[0] += 1

    for i in range(TASKS):
        s.spawn(sleeper(i))
    loop = RunLoop(s, idle=idle, max_idle_us=None)

    def steps():
        for _ in range(400):
            loop.step()

    steps()
    n0 = fired[0]
    grew = mem_delta(steps)
    return grew / (fired[0] - n0)


def run_asyncio():
    import asyncio

    late = Samples()
    idle = [0]
    q = asyncio.core._io_queue
    inner = q.wait_io_event

    def wait_io_event(dt):
        i0 = ticks_us()
        inner(dt)
        if dt:
            idle[0] += ticks_diff(ticks_us(), i0)

    async def sleeper(ds):
        for d in ds:
            t0 = ticks_us()
            await asyncio.sleep_ms(d)
            late.add(ticks_diff(ticks_us(), t0) - d * 1000)

    ds = [durations(i) for i in range(TASKS)]  # before t0, as in run_tickless

    async def main():
        tasks = [sleeper(d) for d in ds]
        ds.clear()  # (as in run_tickless)
        await asyncio.gather(*tasks)

    q.wait_io_event = wait_io_event
    try:
        gc.collect()
        t0 = ticks_us()
        asyncio.run(main())
        wall = ticks_diff(ticks_us(), t0)
    finally:
        del q.wait_io_event
    return late.all(), (wall - idle[0]) * 1000 / late.n


def main():
    if Timer is None:
        emit("timers", "skipped: needs shimeji.time's Timer and sleep_ms", "us", None)
        return
    rows = {}
    p99s = {}  # each way's per-round p99, for the note
    ways = [("tl", run_tickless), ("sh", lambda: run_shimeji(1000)),
            ("sh100", lambda: run_shimeji(100))]
    if IS_MP:
        ways.append(("as", run_asyncio))
    back = list(ways)
    back.reverse()  # (MicroPython slices only with step 1)
    for r in range(ROUNDS):  # interleaved, the order reversed every other round; pooled
        for key, fn in ways if r % 2 == 0 else back:
            late, cpu = fn()
            p99s.setdefault(key, []).append(summary(late)[1])
            old = rows.get(key)
            rows[key] = (late, cpu) if old is None else (old[0] + late, min(old[1], cpu))
    asy = rows.get("as")
    a = summary(asy[0]) if asy else None
    note = "offered load, tickless: %.2f of the CPU%s%s; %d rounds pooled, p99 per round " \
        "(in order): tickless %s µs%s" % (
            offered_load(rows["tl"][1]), "" if asy is None else ", asyncio %.2f" % offered_load(
                asy[1]), "" if offered_load(rows["tl"][1]) <= 1 else
            " (above 1: the lateness is the queue's, not the timer's)", ROUNDS,
            "/".join(str(x) for x in p99s["tl"]),
            "" if asy is None else ", asyncio %s µs" % "/".join(str(x) for x in p99s["as"]))
    if benchlib._scaled[0]:
        note = benchlib._scaled[0] + "; " + note
    for key, label in (("tl", "tickless"), ("sh", "1 ms ticks"), ("sh100", "100 µs ticks")):
        sh = summary(rows[key][0])
        for i, name in enumerate(("p50", "p99", "max", "earliest (<0: woke early)")):
            emit("timers", "µs late, %s, %s" % (label, name), "us", sh[i],
                 None if a is None else a[i], note=note)
        emit("timers", "CPU ns per timer fired, %s" % label, "ns", round(rows[key][1]),
             None if asy is None else round(asy[1]), note=note)
    if IS_MP:
        emit("timers", "bytes per fired timer (tickless, steady state)", "B",
             bytes_per_fired_timer(), None)


main()
