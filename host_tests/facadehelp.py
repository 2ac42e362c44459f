"""What the asyncio facade's tests share: a fresh event loop (the current one dropped first)
and task counts scaled to the heap for the tests that grow the pool."""
import gc

import shimeji.asyncio as asyncio
from support import heap_scaled

# A task past the loop's 16 static slots costs a grown slot (~730 B on a 32-bit board), its
# Task and its coroutine: about 1,000 B. The tests that grow the pool scale their task counts
# to the heap (an STM32L475 has ~87 KB free after boot) and never below 17, so the pool grows.
GROWN_TASK_BYTES = 1000


def fresh_loop():
    # The current loop is dropped first: a test may leave tasks in it (a busy loop is replaced,
    # not reset), and the old and the new loop (~13 KB each on 32-bit) at once do not fit
    # next to this module on an STM32L475's heap.
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def grown_tasks(n):
    return heap_scaled(n, GROWN_TASK_BYTES, least=17)
