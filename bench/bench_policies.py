"""policies: the cost of one poll under each scheduling policy, and its overhead over FIFO.

The switch workload (100 tasks each yielding 200 times) under FifoPolicy (the scheduler's
inlined fast path), FifoPolicy through the general path (a subclass: what FIFO cost before the
fast path, and what any custom policy pays for the policy calls), and the round-robin,
CFS and priority policies. Timed policies read the µs clock twice per poll; that is part of
their cost. asyncio has no policies: the reference column is the FIFO fast path."""

from benchlib import emit, fit, heap_cost, ns_since, slot_cost, start

import shimeji
from shimeji import FifoPolicy, StaticScheduler, yield_now

YIELDS = 200
REPS = 5


class GeneralFifo(FifoPolicy):
    """FifoPolicy on the scheduler's general path (only exactly FifoPolicy is inlined)."""


def policies():
    out = [("FIFO", FifoPolicy), ("FIFO, general path", GeneralFifo)]
    for label, name in (("round-robin", "RoundRobinPolicy"), ("CFS", "CfsPolicy"),
                        ("priority", "PriorityPolicy")):
        cls = getattr(shimeji, name, None)
        if cls is not None:
            out.append((label, cls))
    return out


async def yielder():
    for _ in range(YIELDS):
        await yield_now()


# Per task: a slot (a round-robin or CFS slot carries more than the FIFO one slot_cost()
# measures: ~730 B against ~570 on 32-bit) and its coroutine; a slot counts twice for a
# fragmented heap (as bench_switch). Scaled to the heap on small boards (an STM32L475).
TASKS = fit(100, 2 * slot_cost() + 320 + heap_cost(yielder) + 64)


def run(make_policy):
    s = StaticScheduler(TASKS, policy=make_policy())
    for _ in range(TASKS):
        s.spawn_detached(yielder())
    t0 = start()
    polls = 0
    while True:
        p = s.tick().polled
        if not p:
            break
        polls += p
    return ns_since(t0) / polls


def main():
    pols = policies()
    best = {}
    for _ in range(REPS):
        for label, cls in pols:
            v = run(cls)
            best[label] = min(best.get(label, v), v)
    fifo = best["FIFO"]
    for label, _cls in pols:
        if label == "FIFO":
            continue
        emit("policies", "ns per poll, %s (ref: FIFO)" % label, "ns", round(best[label]),
             round(fifo), "FIFO")
    missing = [n for n in ("round-robin", "CFS", "priority") if n not in best]
    if missing:
        emit("policies", "skipped: %s (needs the round-robin, CFS and priority policies)"
             % ", ".join(missing), "ns", None)


main()
