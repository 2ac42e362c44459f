"""interrupt wake: latency from a wake by "interrupt" context (a second ``_thread``, as on the
unix port) to the woken task running, in µs (p50 / p99 / max of 200 wakes).

shimeji: the task parks on a one-waiter awaitable; the waker thread calls ``sched.wake(slot)``
(ISR-safe) and then rings a doorbell (a ``_thread`` lock) that the idle run loop sleeps on,
which is what a board's idle (WFI) and interrupt do. asyncio: ``ThreadSafeFlag.set()`` from
the thread, the task awaiting ``flag.wait()``; its loop sleeps in ``poll``. Two modes:
"idle" (nothing else to run) and "busy" (another task yields all the time)."""

import sys
import time

from benchlib import Rng, emit

try:
    import _thread
except ImportError:
    _thread = None

from shimeji import StaticScheduler, core, yield_now

WAKES = 200
IS_MP = sys.implementation.name == "micropython"

if IS_MP:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff

    def sleep_us(us):
        time.sleep_us(us)

else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_us(us):
        time.sleep(us / 1e6)


class Doorbell:
    """A parking awaitable woken from the other thread; remembers when it was rung."""

    def __init__(self):
        self.slot = None
        self.is_open = False
        self.t_wake = 0
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        self.slot = core.current_slot()  # register first: a wake may come at any moment
        if self.is_open:
            self.is_open = False
            raise self._finish.done()
        return core.PARK


def percentiles(samples):
    s = sorted(samples)
    n = len(s)
    return s[n // 2], s[min(n - 1, (n * 99) // 100)], s[-1]


def shimeji_latency(busy):
    s = StaticScheduler(4)
    bell = Doorbell()
    samples = []
    consumed = [0]
    idle_lock = _thread.allocate_lock()
    idle_lock.acquire()
    stop = [False]

    async def waiter():
        for _ in range(WAKES):
            await bell
            samples.append(ticks_diff(ticks_us(), bell.t_wake))
            consumed[0] += 1

    async def spinner():
        while not stop[0]:
            await yield_now()

    def waker():
        rng = Rng(7)
        for i in range(WAKES):
            while consumed[0] < i or bell.slot is None or bell.slot.state != 3:
                sleep_us(50)
            sleep_us(200 + rng.below(800))
            bell.t_wake = ticks_us()
            bell.is_open = True
            s.wake(bell.slot)
            if not busy:
                idle_lock.release()

    h = s.spawn(waiter())
    if busy:
        s.spawn_detached(spinner())
    s.tick()
    _thread.start_new_thread(waker, ())
    while not h.is_complete():
        t = s.tick()
        if not busy and not t.has_remaining and not h.is_complete():
            idle_lock.acquire()  # the CPU sleeps until the "interrupt"
    stop[0] = True
    s.tick()
    return percentiles(samples)


def asyncio_latency(busy):
    import asyncio

    if not hasattr(asyncio, "ThreadSafeFlag"):
        return None
    flag = asyncio.ThreadSafeFlag()
    samples = []
    consumed = [0]
    waiting = [False]
    t_wake = [0]
    stop = [False]

    async def waiter():
        for _ in range(WAKES):
            waiting[0] = True
            await flag.wait()
            samples.append(ticks_diff(ticks_us(), t_wake[0]))
            waiting[0] = False
            consumed[0] += 1

    async def spinner():
        while not stop[0]:
            await asyncio.sleep_ms(0)

    def waker():
        rng = Rng(7)
        for i in range(WAKES):
            while consumed[0] < i or not waiting[0]:
                sleep_us(50)
            sleep_us(200 + rng.below(800))
            t_wake[0] = ticks_us()
            flag.set()

    async def main():
        if busy:
            asyncio.create_task(spinner())
        w = asyncio.create_task(waiter())
        await asyncio.sleep_ms(0)
        _thread.start_new_thread(waker, ())
        await w
        stop[0] = True

    asyncio.run(main())
    return percentiles(samples)


def main():
    if _thread is None:
        emit("interrupt wake", "skipped: no _thread", "us", None)
        return
    for busy in (False, True):
        mode = "busy" if busy else "idle"
        sh = shimeji_latency(busy)
        asy = asyncio_latency(busy) if IS_MP else None
        for i, label in enumerate(("p50", "p99", "max")):
            emit("interrupt wake", "µs wake to run, %s, %s" % (mode, label), "us", sh[i],
                 None if asy is None else asy[i])


main()
