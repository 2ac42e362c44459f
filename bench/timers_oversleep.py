"""Where the timers workload's lateness comes from: bench_timers' tickless and asyncio loops
(200 tasks x 20 sleeps of 1-7 ms, real clock) with every idle timed and every sleep's deadline
and wake kept. For each run it prints the load average, the lateness p50 / p90 / p99 / max,
the CPU per fired timer (the run's wall time minus the time spent in idles, per sleep), the
idles, each idle's oversleep (µs slept beyond the µs asked: the kernel's wake-up, not the
runtime's) p50 / p99 / max, the busy stretches between idles (the runtime's own work, and any
preemption of it) p99 / max, and what the run's slowest 1 % of sleeps were made of (``blame``,
their lateness summed, as shares):

- ``over``: the sleep's deadline had passed while the process was still in an idle that
  overslept (the kernel woke it late);
- ``asked``: the idle was asked to last past the deadline (the timer's slack grid);
- ``queue``: after the idle ended, until the sleeper resumed (the turn, the hand-off, and the
  sleepers of the same batch polled ahead of it; ``pos`` is its mean place in that batch);
- ``busy``: the deadline passed before the last idle ahead of the wake began (a long stretch
  of work, a preemption while running, or a deadline slept through).

docs/benchmarks.md, "Timers, round nineteen" and "Lateness tails, session 21".

    MICROPYPATH=.frozen:firmware:bench .venv/bin/micropython -X heapsize=32M \\
        bench/timers_oversleep.py [runs] [gc-off] [json] [raw] [spin=US]

``json``: one ``OVERSLEEP {...}`` line per run instead of the text (``raw``: with every
sleep's lateness, for pooling runs afterwards; the json adds the quantiles of the µs each idle
asked for, and ``stalls``: the idles that overslept more than 1 ms). ``spin=US``: the
tickless idle waits shorter than ``US`` µs by spinning on the clock instead of sleeping (an
experiment: a spin is not an idle here, so its time counts as CPU). Not part of ``make
bench`` (a diagnosis, not a figure of the goals). MicroPython only.
"""

import gc
import sys
import time
from array import array

from benchlib import Rng

from shimeji import StaticScheduler, Timer, sleep_ms
from shimeji.sched.runloop import RunLoop

TASKS = 200
SLEEPS = 20
MAX_IDLES = 20000
SPIN = [0]
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


def durations(i):
    rng = Rng(1000 + i)  # bench_timers' durations
    return [1 + rng.below(7) for _ in range(SLEEPS)]


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return -1.0


class Probe:
    """The run's sleeps (lateness, deadline, wake) and idles (start, end, µs asked), made
    before the run: nothing grows during it. Times are µs since ``t0``."""

    def __init__(self):
        n = TASKS * SLEEPS
        self.late = array("i", [0] * n)
        self.due = array("i", [0] * n)
        self.woke = array("i", [0] * n)
        self.n = 0
        self.over = array("i", [0] * MAX_IDLES)
        self.busy = array("i", [0] * MAX_IDLES)
        self.i0 = array("i", [0] * MAX_IDLES)
        self.i1 = array("i", [0] * MAX_IDLES)
        self.idles = 0
        self.last = 0
        self.wall = 0
        self.load = load_average()
        self.t0 = ticks_us()

    def idled(self, i0, asked_us):
        i1 = ticks_us()
        k = self.idles
        if k < MAX_IDLES:
            self.over[k] = ticks_diff(i1, i0) - asked_us
            self.busy[k] = ticks_diff(i0, self.last) if self.last else 0
            self.i0[k] = ticks_diff(i0, self.t0)
            self.i1[k] = ticks_diff(i1, self.t0)
            self.idles = k + 1
        self.last = i1

    async def sleeper(self, ds, sleep):
        for d in ds:
            t0 = ticks_us()
            await sleep(d)
            t1 = ticks_us()
            k = self.n
            self.late[k] = ticks_diff(t1, t0) - d * 1000
            self.due[k] = ticks_diff(t0, self.t0) + d * 1000
            self.woke[k] = ticks_diff(t1, self.t0)
            self.n = k + 1

    def split(self, j):
        """Sleep ``j``'s lateness as (over, asked, queue, busy) µs, as the module says; for a
        sleep that woke at or after its deadline they add up to its lateness."""
        d, w = self.due[j], self.woke[j]
        lo, hi = 0, self.idles  # the last idle that ended at or before the wake
        while lo < hi:
            mid = (lo + hi) // 2
            if self.i1[mid] <= w:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return 0, 0, 0, max(0, w - d)
        k = lo - 1
        i0, i1 = self.i0[k], self.i1[k]
        end = i1 - self.over[k]  # where the idle was asked to end
        part = max(0, i1 - max(d, i0))
        o = max(0, min(part, i1 - max(d, end)))
        return o, part - o, max(0, w - max(d, i1)), max(0, i0 - d)

    def blame(self):
        """The slowest 1 % of sleeps: their (over, asked, queue, busy) µs summed, their mean
        place in their batch (the sleepers that resumed after the same idle ahead of them),
        and how many they are."""
        n = self.n
        order = sorted(range(n), key=lambda j: self.late[j])
        top = order[n - max(1, n // 100):]
        wakes = sorted(self.woke[:n])
        sums = [0, 0, 0, 0]
        pos = 0
        for j in top:
            parts = self.split(j)
            for i in range(4):
                sums[i] += parts[i]
            ended = self.woke[j] - parts[2]  # the idle's end (or the deadline, if later)
            a, b = 0, n
            while a < b:
                mid = (a + b) // 2
                if wakes[mid] < ended:
                    a = mid + 1
                else:
                    b = mid
            pos += sum(1 for x in wakes[a:] if x < self.woke[j])
        return sums + [pos // len(top), len(top)]

    def figures(self, name):
        def q(v, n, ps=(50, 99)):
            s = sorted(v[:n]) or [0]
            return [s[min(len(s) - 1, (len(s) * p) // 100)] for p in ps] + [s[-1]]

        over, asked, queue, busy, pos, top = self.blame()
        total = max(1, over + asked + queue + busy)
        m = self.idles
        slept = sum(self.i1[k] - self.i0[k] for k in range(m))
        wants = [self.i1[k] - self.i0[k] - self.over[k] for k in range(m)]
        return {"rt": name, "load": self.load, "late": q(self.late, self.n, (50, 90, 99)),
                "cpu_ns": (self.wall - slept) * 1000 // max(1, self.n),
                "asked": q(wants, m, (10, 25, 50, 75, 90)),
                "short": [sum(1 for a in wants if a < x) for x in (32, 64, 128)],
                "stalls": sum(1 for k in range(m) if self.over[k] > 1000),
                "idles": self.idles, "over": q(self.over, self.idles),
                "busy": q(self.busy, self.idles)[1:], "top": top, "pos": pos,
                "blame": [round(100 * x / total) for x in (over, asked, queue, busy)]}

    def report(self, name, as_json=False, raw=False):
        f = self.figures(name)
        if raw:
            f["lates"] = list(self.late[: self.n])
        if as_json:
            import json

            print("OVERSLEEP " + json.dumps(f))
            return
        print("%-8s load %.2f late p50 %d p90 %d p99 %d max %d | CPU %d ns | idles %d "
              "oversleep p50 %d p99 %d max %d | busy p99 %d max %d | blame %% over %d asked %d "
              "queue %d busy %d, pos %d" % (
                  (name, f["load"]) + tuple(f["late"]) + (f["cpu_ns"], f["idles"])
                  + tuple(f["over"]) + tuple(f["busy"]) + tuple(f["blame"]) + (f["pos"],)))


def run_tickless():
    """The tickless run (RunLoop on a µs Timer, its idle ``time.sleep_us``); its Probe."""
    p = Probe()
    s = StaticScheduler(TASKS + 1, timer=Timer(tick_us=1))
    ds = [durations(i) for i in range(TASKS)]

    def idle(us):
        i0 = ticks_us()
        if us < SPIN[0]:
            end = time.ticks_add(i0, us)
            while ticks_diff(end, ticks_us()) > 0:
                pass
            return
        time.sleep_us(us)
        p.idled(i0, us)

    async def main():
        for d in ds:
            s.spawn_detached(p.sleeper(d, sleep_ms))
        ds.clear()
        while s.live_count() > 1:
            await sleep_ms(10)

    gc.collect()
    p.t0 = ticks_us()
    RunLoop(s, idle=idle, max_idle_us=None).run(s.spawn(main()))
    p.wall = ticks_diff(ticks_us(), p.t0)
    return p


def run_asyncio():
    """The same sleeps on MicroPython's asyncio (its idle, ``wait_io_event``, timed); its
    Probe."""
    import asyncio

    p = Probe()
    q = asyncio.core._io_queue
    inner = q.wait_io_event
    ds = [durations(i) for i in range(TASKS)]

    def wait_io_event(dt):  # asyncio's dt: ms
        if dt:
            i0 = ticks_us()
            inner(dt)
            p.idled(i0, dt * 1000)
        else:
            inner(dt)

    async def main():
        tasks = [p.sleeper(d, asyncio.sleep_ms) for d in ds]
        ds.clear()
        await asyncio.gather(*tasks)

    q.wait_io_event = wait_io_event
    try:
        gc.collect()
        p.t0 = ticks_us()
        asyncio.run(main())
        p.wall = ticks_diff(ticks_us(), p.t0)
    finally:
        del q.wait_io_event
    return p


def main(argv):
    runs = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 2
    if "gc-off" in argv:
        gc.disable()
    for a in argv:
        if a.startswith("spin="):
            SPIN[0] = int(a[5:])
    as_json = "json" in argv or "raw" in argv
    raw = "raw" in argv
    for _ in range(runs):
        run_tickless().report("tickless", as_json, raw)
        run_asyncio().report("asyncio", as_json, raw)


if __name__ == "__main__":
    main(sys.argv)
