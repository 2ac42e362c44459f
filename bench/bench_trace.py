"""trace: what tracing costs on the switch workload (100 tasks x 200 yields, FIFO; fewer tasks
where the heap is smaller).

- off: ``sched.tick()`` with no trace attached (the hook is one attribute test per tick)
  against the FIFO tick ``sched.tick()`` dispatches to (``wordtick``'s, viper over the slot
  words since session 15) called directly (no hook at all);
- on: ``sched.tick()`` with a ``Trace(512)`` attached (two records per switch; the ring
  wraps many times) against the same scheduler with none attached.
Each round runs the three back to back, in an order that turns from round to round (all six
orders alike: no mode always runs first, after a collection, or last); the goals use the median
of the rounds' paired ratios (the machine is shared: a ratio within a round is steadier than
the best of each), and the rows' notes give the ratios' range and middle half. A last row says
what one read of the trace's clock costs (the scheduler's ``clock_us``): the traced switch reads
it once, which instruction counts miss (on a virtual machine ``clock_gettime`` alone can take
100 ns)."""

import gc

from benchlib import emit, fit, heap_cost, ns_since, slot_cost, start

from shimeji import StaticScheduler, Trace, yield_now
from shimeji.sched.wordtick import tick_fifo  # what sched.tick() runs for FIFO, no hook

YIELDS = 200
ROUNDS = 24  # four times each of the six orders
ORDERS = (("bare", "off", "on"), ("on", "off", "bare"), ("off", "on", "bare"),
          ("bare", "on", "off"), ("on", "bare", "off"), ("off", "bare", "on"))
CLOCK_READS = 20000


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


def clock_read_ns(clock):
    """ns per call of ``clock``: the best of 7 loops of calls less the best of 7 empty ones."""
    calls = empty = None
    for _ in range(7):
        t0 = start()
        for _ in range(CLOCK_READS):
            clock()
        t = ns_since(t0)
        calls = t if calls is None or t < calls else calls
        t0 = start()
        for _ in range(CLOCK_READS):
            pass
        t = ns_since(t0)
        empty = t if empty is None or t < empty else empty
    return (calls - empty) / CLOCK_READS


def spread(xs):
    """The median, the range and the middle half of ``xs``, as (median, note)."""
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2], "%d rounds, range %.3f-%.3f, middle half %.3f-%.3f" % (
        n, xs[0], xs[-1], xs[n // 4], xs[(3 * n) // 4])


def main():
    best = {"bare": None, "off": None, "on": None}
    off_ratio = []
    on_ratio = []
    for k in range(ROUNDS):  # rounds: a load spike hits the three of one round alike
        got = {}
        for mode in ORDERS[k % len(ORDERS)]:
            got[mode] = v = run(mode)
            if best[mode] is None or v < best[mode]:
                best[mode] = v
        off_ratio.append(got["off"] / got["bare"])
        on_ratio.append(got["on"] / got["off"])
    emit("trace", "ns per switch, tracing off (vs no hook)", "ns", round(best["off"]),
         round(best["bare"]), "no hook")
    emit("trace", "ns per switch, tracing on (vs off)", "ns", round(best["on"]),
         round(best["off"]), "off")
    med, note = spread(off_ratio)
    emit("trace", "cost of tracing off, median of paired runs", "x", round(med, 3), None, "",
         note)
    med, note = spread(on_ratio)
    emit("trace", "cost of tracing on, median of paired runs", "x", round(med, 3), None, "",
         note)
    clock = StaticScheduler(1)._clock_us  # what a Trace attached to it reads
    emit("trace", "ns per clock read (one per traced switch)", "ns",
         round(clock_read_ns(clock)), round(best["off"]), "off switch")


main()
