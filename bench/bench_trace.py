"""trace: what tracing costs on the switch workload (100 tasks x 200 yields, FIFO; fewer tasks
where the heap is smaller).

- off: ``sched.tick()`` with no trace attached (the hook is one attribute test per tick)
  against the FIFO tick ``sched.tick()`` dispatches to (``wordtick``'s, viper over the slot
  words since session 15) called directly (no hook at all);
- on: ``sched.tick()`` with a ``Trace(512)`` attached (two records per switch; the ring
  wraps many times) against the same scheduler with none attached.
Each repetition runs the three back to back; the goals use the median of the paired ratios
(the machine is shared: a ratio within a pair is steadier than the best of each)."""

import gc

from benchlib import emit, fit, heap_cost, ns_since, slot_cost, start

from shimeji import StaticScheduler, Trace, yield_now
from shimeji.sched.wordtick import tick_fifo  # what sched.tick() runs for FIFO, no hook

YIELDS = 200
REPS = 21


async def task():
    for _ in range(YIELDS):
        await yield_now()


# One ring, made first (8 KB in one piece: on a board's heap, later it may find no room),
# attached to each run's scheduler; then as many tasks as fit.
RING = Trace(512)
TASKS = fit(100, slot_cost() + heap_cost(task))
SWITCHES = TASKS * YIELDS


def run(mode):
    gc.collect()
    s = StaticScheduler(TASKS)
    if mode == "on":
        RING.attach(s)
    for _ in range(TASKS):
        s.spawn_detached(task())
    t0 = start()
    if mode == "bare":
        while tick_fifo(s, 256).polled:
            pass
    else:
        while s.tick().polled:
            pass
    t = ns_since(t0) / SWITCHES
    RING.detach()
    return t


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    best = {"bare": None, "off": None, "on": None}
    off_ratio = []
    on_ratio = []
    for _ in range(REPS):  # paired runs: a load spike hits the three of one pair alike
        got = {}
        for mode in ("bare", "off", "on"):
            got[mode] = v = run(mode)
            if best[mode] is None or v < best[mode]:
                best[mode] = v
        off_ratio.append(got["off"] / got["bare"])
        on_ratio.append(got["on"] / got["off"])
    emit("trace", "ns per switch, tracing off (vs no hook)", "ns", round(best["off"]),
         round(best["bare"]), "no hook")
    emit("trace", "ns per switch, tracing on (vs off)", "ns", round(best["on"]),
         round(best["off"]), "off")
    emit("trace", "cost of tracing off, median of paired runs", "x",
         round(median(off_ratio), 3), None, "", "%d pairs" % REPS)
    emit("trace", "cost of tracing on, median of paired runs", "x",
         round(median(on_ratio), 3), None, "", "%d pairs" % REPS)


main()
