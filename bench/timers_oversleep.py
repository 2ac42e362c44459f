"""Where the timers workload's lateness comes from: bench_timers' tickless and asyncio loops
(200 tasks x 20 sleeps of 1-7 ms, real clock) with every idle timed. For each run it prints the
lateness p50 / p99 / max, the idles, each idle's oversleep (µs slept beyond the µs asked: the
kernel's wake-up, not the runtime's) p50 / p99 / max, and the busy stretches between idles
(the runtime's own work, and any preemption of it) p99 / max. docs/benchmarks.md, "Timers,
round nineteen": a tickless p99 of milliseconds follows the worst oversleep run for run.

    MICROPYPATH=.frozen:firmware:bench .venv/bin/micropython -X heapsize=32M \\
        bench/timers_oversleep.py [runs] [gc-off]

Not part of ``make bench`` (a diagnosis, not a figure of the goals). MicroPython only.
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
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


def durations(i):
    rng = Rng(1000 + i)  # bench_timers' durations
    return [1 + rng.below(7) for _ in range(SLEEPS)]


class Probe:
    """The run's lateness samples and its idles (oversleep, busy stretch before), made
    before the run: nothing grows during it."""

    def __init__(self):
        self.late = array("i", [0] * (TASKS * SLEEPS))
        self.n = 0
        self.over = array("i", [0] * MAX_IDLES)
        self.busy = array("i", [0] * MAX_IDLES)
        self.idles = 0
        self.last = 0

    def idled(self, i0, asked_us):
        i1 = ticks_us()
        k = self.idles
        if k < MAX_IDLES:
            self.over[k] = ticks_diff(i1, i0) - asked_us
            self.busy[k] = ticks_diff(i0, self.last) if self.last else 0
            self.idles = k + 1
        self.last = i1

    async def sleeper(self, ds, sleep):
        for d in ds:
            t0 = ticks_us()
            await sleep(d)
            self.late[self.n] = ticks_diff(ticks_us(), t0) - d * 1000
            self.n += 1

    def report(self, name):
        def q(v, n):
            s = sorted(v[:n]) or [0]
            return s[len(s) // 2], s[(len(s) * 99) // 100], s[-1]

        late, over, busy = q(self.late, self.n), q(self.over, self.idles), q(self.busy, self.idles)
        print("%-8s late p50 %d p99 %d max %d | idles %d oversleep p50 %d p99 %d max %d | "
              "busy p99 %d max %d" % ((name,) + late + (self.idles,) + over + busy[1:]))


def run_tickless():
    """The tickless run (RunLoop on a µs Timer, its idle ``time.sleep_us``); its Probe."""
    p = Probe()
    s = StaticScheduler(TASKS + 1, timer=Timer(tick_us=1))
    ds = [durations(i) for i in range(TASKS)]

    def idle(us):
        i0 = ticks_us()
        time.sleep_us(us)
        p.idled(i0, us)

    async def main():
        for d in ds:
            s.spawn_detached(p.sleeper(d, sleep_ms))
        ds.clear()
        while s.live_count() > 1:
            await sleep_ms(10)

    gc.collect()
    RunLoop(s, idle=idle, max_idle_us=None).run(s.spawn(main()))
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
        asyncio.run(main())
    finally:
        del q.wait_io_event
    return p


def main(argv):
    runs = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 2
    if "gc-off" in argv:
        gc.disable()
    for _ in range(runs):
        run_tickless().report("tickless")
        run_asyncio().report("asyncio")


if __name__ == "__main__":
    main(sys.argv)
