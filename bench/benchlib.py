"""Shared helpers for the benchmark workloads; runs under MicroPython and CPython.

Each workload module prints one JSON line per figure, prefixed ``BENCH``; ``tools/bench.py``
collects them. Times are the best of several repetitions (the machine is shared and noisy;
the minimum is the least disturbed run). Shimeji and asyncio runs are interleaved.
"""

import gc
import json
import sys
import time

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


def start():
    """A start mark for ``ns_since``, after a collection. Design note: MicroPython's allocator
    gets several times slower on a heap full of garbage (after imports, say) until the next
    collection, so every timed run starts from a collected heap, on both runtimes alike."""
    gc.collect()
    if IS_MICROPYTHON:
        return time.ticks_us()
    return time.perf_counter_ns()


def ns_since(t0):
    """Nanoseconds since ``start()`` returned ``t0`` (µs resolution on MicroPython)."""
    if IS_MICROPYTHON:
        return time.ticks_diff(time.ticks_us(), t0) * 1000
    return time.perf_counter_ns() - t0


def sleep0_asyncio(asyncio):
    """asyncio's yield: ``sleep_ms(0)`` on MicroPython, ``sleep(0)`` on CPython."""
    if hasattr(asyncio, "sleep_ms"):
        return asyncio.sleep_ms
    return lambda ms: asyncio.sleep(ms / 1000)


def best(fn, reps):
    """Smallest result of ``reps`` calls of ``fn()`` (a figure where lower is better)."""
    result = None
    for _ in range(reps):
        gc.collect()
        v = fn()
        if result is None or v < result:
            result = v
    return result


_scaled = [""]


def scaled(text):
    """Say (in every following row's note) how a workload was scaled down to fit the heap."""
    _scaled[0] = text


def emit(workload, metric, unit, shimeji, ref=None, ref_name="asyncio", note=""):
    """Print one result line for the driver: shimeji's figure against a reference figure
    (asyncio's, or the bare-generator floor). Lower is better for every figure."""
    note = note or _scaled[0]
    rec = {
        "workload": workload,
        "metric": metric,
        "unit": unit,
        "shimeji": shimeji,
        "ref": ref,
        "ref_name": ref_name,
        "note": note,
    }
    print("BENCH " + json.dumps(rec))


def mem_delta(fn):
    """Bytes the heap grew by while ``fn()`` ran, collector off (MicroPython only)."""
    gc.collect()
    gc.disable()
    try:
        a = gc.mem_alloc()
        fn()
        b = gc.mem_alloc()
    finally:
        gc.enable()
    return b - a


def heap_cost(make, n=8):
    """Heap bytes one ``make()`` result takes, measured over ``n`` of them (MicroPython; 0 on
    CPython, whose heap is not the limit). ``fit`` turns it into a workload size."""
    if not IS_MICROPYTHON:
        return 0
    gc.collect()
    a = gc.mem_alloc()
    held = [make() for _ in range(n)]
    b = gc.mem_alloc()
    del held
    gc.collect()
    return (b - a + n - 1) // n


def fit(n, each, spare=16384):
    """``n``, or as many as fit in the free heap when each takes ``each`` bytes, keeping
    ``spare`` bytes and a sixth of the heap for the rest of the run (fragmentation included).
    A 32-bit board has ~140-190 KB: the workloads are scaled to ``gc.mem_free()`` there, and
    keep their full size on the unix port and CPython."""
    if not IS_MICROPYTHON or each <= 0:
        return n
    gc.collect()
    free = gc.mem_free()
    got = max(2, min(n, (free - free // 6 - spare) // each))
    if got < n:
        scaled("scaled to the heap: %d instead of %d" % (got, n))
    return got


def big_heap():
    """True on CPython and where MicroPython's free heap passes 4 MB (the unix port): room
    for more repetitions than a board's heap and time allow."""
    if not IS_MICROPYTHON:
        return True
    gc.collect()
    return gc.mem_free() > 4 * 1024 * 1024


def slot_cost():
    """Heap bytes per task slot of a ``StaticScheduler`` (its share of the scheduler too)."""
    from shimeji import StaticScheduler

    return heap_cost(lambda: StaticScheduler(8), 2) // 8


class Rng:
    """A small deterministic generator (xorshift32), the same on both runtimes."""

    def __init__(self, seed=0x2545F491):
        self.x = seed & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n
