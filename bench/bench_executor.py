"""executor: the multi-core executor on the MicroPython unix port (threads without a GIL).

- throughput: 64 CPU-bound tasks that allocate nothing, each computing 200 chunks with
  ``yield_now()`` between, on 1, 2 and 4 workers (ns per chunk; the machine's cores are
  printed). Goals: 2 workers at least 1.7x the throughput of 1; 4 workers on 2 cores no more
  than 10 % slower than 2 (an oversubscribed worker must sleep, not spin).
- balance: all 64 tasks spawned on worker 0; each worker's polled count against the mean.
- steals: steal requests and failed steal rounds per task, the figures that decide scaling.
- cross-worker wake: a task on one worker sets an Event that a task on the other waits on;
  µs from ``set()`` to the woken task's first line, p50/p99 over 200 events.
- single worker: the switch benchmark's yield loop on ``Executor(workers=1)`` against a plain
  ``StaticScheduler`` (goal: at most 1.2x)."""

import os
import sys

from benchlib import emit, ns_since, start, ticks_diff, ticks_us

if sys.implementation.name != "micropython":
    emit("executor", "executor figures (MicroPython unix port only)", "ns", None, None)
    raise SystemExit(0)

from shimeji import Event, Executor, StaticScheduler, yield_now  # noqa: E402

TASKS = 64
CHUNKS = 200


async def compute():
    s = 0
    for k in range(CHUNKS):
        for j in range(40):
            s += j ^ k
        await yield_now()
    return s


def throughput(workers, spread=True):
    ex = Executor(workers=workers, capacity=TASKS + 4)

    async def main():
        hs = [ex.spawn(compute()) for _ in range(TASKS)]
        for h in hs:
            await h

    t0 = start()
    ex.run(main())
    ns = ns_since(t0)
    return ns // (TASKS * CHUNKS), ex


def wake_latency(events=200):
    ex = Executor(workers=2, capacity=8)
    lat = []
    ev = Event()
    stamp = [0]

    async def waiter():
        for _ in range(events):
            await ev.wait()
            lat.append(ticks_diff(ticks_us(), stamp[0]))
            ev.clear()

    async def main():
        h = ex.spawn(waiter())
        while len(lat) < events and h._live_slot() is not None:
            if not ev.is_set():
                stamp[0] = ticks_us()
                ev.set()
            for _ in range(5):
                await yield_now()
        await h

    ex.run(main())
    lat.sort()
    return lat[len(lat) // 2], lat[len(lat) * 99 // 100]


def single_worker_switch():
    async def yielder():
        for _ in range(200):
            await yield_now()

    s = StaticScheduler(100)
    for _ in range(100):
        s.spawn_detached(yielder())
    t0 = start()
    while s.tick().has_remaining:
        pass
    plain = ns_since(t0) // 20000
    ex = Executor(workers=1, capacity=104)

    async def main():
        hs = [ex.spawn(yielder()) for _ in range(100)]
        for h in hs:
            await h

    t0 = start()
    ex.run(main())
    return ns_since(t0) // 20000, plain


cores = os.cpu_count() if hasattr(os, "cpu_count") else None
one, _ = throughput(1)
two, ex2 = throughput(2)
four, _ = throughput(4)
note = "%s cores" % (cores or "?")
emit("executor", "ns per chunk, 1 worker", "ns", one, None, "", note)
emit("executor", "ns per chunk, 2 workers", "ns", two, one, "1 worker")
emit("executor", "ns per chunk, 4 workers", "ns", four, two, "2 workers")
polled = [w.polled for w in ex2.workers]
mean = sum(polled) / len(polled)
spread = max(abs(p - mean) for p in polled) / mean if mean else 0
emit("executor", "largest polled-count gap from the mean, 2 workers", "%", int(spread * 100))
requests = sum(w.steal_requests for w in ex2.workers)
failed = sum(w.failed_steals for w in ex2.workers)
emit("executor", "steal requests per task (x1000), 2 workers", "", requests * 1000 // TASKS)
emit("executor", "failed steal rounds per task (x1000), 2 workers", "", failed * 1000 // TASKS)
p50, p99 = wake_latency()
emit("executor", "µs cross-worker wake, p50", "µs", p50)
emit("executor", "µs cross-worker wake, p99", "µs", p99)
sw, plain = single_worker_switch()
emit("executor", "ns per switch, 1 worker vs StaticScheduler", "ns", sw, plain, "StaticScheduler")
