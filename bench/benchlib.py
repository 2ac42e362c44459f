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


def emit(workload, metric, unit, shimeji, ref=None, ref_name="asyncio", note=""):
    """Print one result line for the driver: shimeji's figure against a reference figure
    (asyncio's, or the bare-generator floor). Lower is better for every figure."""
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
