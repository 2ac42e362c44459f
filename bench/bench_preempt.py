"""preempt: response time from an "interrupt" (a second ``_thread`` calling an ISR-safe wake, as
on the unix port) to the first line of the woken high-priority task, while a low-priority task
computes for 50 ms at a time without yielding. p50 / p99 / max over ``EVENTS`` events, in µs.

- shimeji interrupt level: the urgent task runs on an ``InterruptScheduler`` and awaits a
  ``WaitCell``; the hog runs on a thread-level ``StaticScheduler``. The wake queues the level's
  ``micropython.schedule`` callback, which runs inside the hog's loop.
- shimeji thread level: one ``StaticScheduler`` with ``PriorityPolicy``, urgent at the top
  priority: it runs when the hog's 50 ms poll ends.
- asyncio: ``ThreadSafeFlag.set()`` from the thread; urgent awaits ``flag.wait()``, the hog
  computes 50 ms between ``sleep_ms(0)``.

Every variant gets the same pseudo-random delays (1-40 ms into a hog round). Bytes per event:
the heap's growth over the events after the first (collector off), per event, thread
included.
CPython cannot preempt a poll (its ``micropython.schedule`` stand-in runs between polls), so
there the interrupt level is bounded by the hog too; it runs fewer events (``CPY_EVENTS``).
"""

import gc
import sys
import time

from benchlib import Rng, emit

try:
    import _thread
except ImportError:
    _thread = None

from shimeji import InterruptScheduler, PriorityPolicy, StaticScheduler, WaitCell, yield_now

IS_MP = sys.implementation.name == "micropython"
EVENTS = 500
CPY_EVENTS = 40
HOG_US = 50000

if IS_MP:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    sleep_us = time.sleep_us
    mem_alloc = gc.mem_alloc
else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_us(us):
        time.sleep(us / 1e6)

    def mem_alloc():
        return 0


class Run:
    """What the hog, the urgent task and the interrupt thread share (preallocated)."""

    def __init__(self, events):
        self.events = events
        rng = Rng(11)
        self.delays = [1000 + rng.below(39000) for _ in range(events)]
        self.samples = [0] * events
        self.done = 0  # events answered
        self.waiting = False  # urgent is parked, ready for the next event
        self.in_loop = False  # the hog is computing
        self.t_fire = 0
        self.stop = False
        self.started = False
        self.finished = False
        self.stalls = 0
        self.longest_stall = 0

    def compute(self):
        """50 ms of bytecode that never yields. It also counts its own stalls: gaps of 1 ms or
        more between two iterations, when the OS ran another process (the machine is shared)
        or the interrupt level ran (its polls are short)."""
        self.in_loop = True
        t0 = prev = ticks_us()
        n = 0
        while True:
            t = ticks_us()
            gap = ticks_diff(t, prev)
            if gap >= 1000:
                self.stalls += 1
                if gap > self.longest_stall:
                    self.longest_stall = gap
            prev = t
            if ticks_diff(t, t0) >= HOG_US:
                break
            n += 1
        self.in_loop = False
        return n

    def answered(self):
        """The urgent task's first line: record the response time."""
        t = ticks_us()
        i = self.done
        self.samples[i] = ticks_diff(t, self.t_fire)
        self.done = i + 1

    def source(self, fire):
        """The interrupt thread: ``fire()`` once per event, a delay into a hog round."""
        i = 0
        self.started = True
        while i < self.events:  # no range object: the heap is measured meanwhile
            while self.done < i or not self.waiting or not self.in_loop:
                sleep_us(200)
            sleep_us(self.delays[i])
            self.waiting = False
            self.t_fire = ticks_us()
            fire()
            i += 1
        self.finished = True


def percentiles(samples):
    s = sorted(samples)
    n = len(s)
    return s[n // 2], s[min(n - 1, (n * 99) // 100)], s[-1]


def shimeji_interrupt_level(events):
    run = Run(events)
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    cell = WaitCell()

    async def urgent():
        for _ in range(events):
            run.waiting = True
            await cell.wait()
            run.answered()

    async def hog():
        while not run.stop:
            run.compute()
            await yield_now()

    hu = isr.spawn(urgent())
    isr.service()
    sched.spawn(hog()).detach()
    _thread.start_new_thread(run.source, (cell.wake,))
    while run.done < 1:  # the first event warms up (first polls, first wake): not counted
        sched.tick()
        isr.service()
    gc.collect()
    gc.disable()
    a0 = mem_alloc()
    while not hu.is_complete():
        sched.tick()
        isr.service()
    a1 = mem_alloc()
    gc.enable()
    run.stop = True
    while sched.live_count():
        sched.tick()
    assert isr.error is None and hu.result() is None
    return percentiles(run.samples), (a1 - a0) / (events - 1), run


def shimeji_thread_level(events):
    run = Run(events)
    sched = StaticScheduler(4, policy=PriorityPolicy(levels=4))
    cell = WaitCell()

    async def urgent():
        for _ in range(events):
            run.waiting = True
            await cell.wait()
            run.answered()

    async def hog():
        while not run.stop:
            run.compute()
            await yield_now()

    hu = sched.build_task().priority(3).spawn(urgent())
    sched.build_task().priority(0).spawn(hog()).detach()
    sched.tick(1)
    _thread.start_new_thread(run.source, (cell.wake,))
    while not hu.is_complete():
        sched.tick()
    run.stop = True
    while sched.live_count():
        sched.tick()
    return percentiles(run.samples)


def asyncio_flag(events):
    import asyncio

    if not hasattr(asyncio, "ThreadSafeFlag"):
        return None, None
    run = Run(events)
    flag = asyncio.ThreadSafeFlag()
    box = [0, 0]

    async def urgent():
        for _ in range(events):
            run.waiting = True
            await flag.wait()
            run.answered()

    async def hog():
        while not run.stop:
            run.compute()
            await asyncio.sleep_ms(0)

    async def main():
        h = asyncio.create_task(hog())
        u = asyncio.create_task(urgent())
        await asyncio.sleep_ms(0)
        _thread.start_new_thread(run.source, (flag.set,))
        while run.done < 1:  # as for shimeji: the first event is not counted
            await asyncio.sleep_ms(0)
        gc.collect()
        gc.disable()
        box[0] = mem_alloc()
        await u
        box[1] = mem_alloc()
        gc.enable()
        run.stop = True
        await h

    asyncio.run(main())
    return percentiles(run.samples), (box[1] - box[0]) / (events - 1)


def main():
    if _thread is None:
        emit("preempt", "skipped: no _thread", "us", None)
        return
    events = EVENTS if IS_MP else CPY_EVENTS
    note = "%d events, 50 ms hog" % events
    il, il_bytes, il_run = shimeji_interrupt_level(events)
    tl = shimeji_thread_level(events)
    asy, asy_bytes = asyncio_flag(events) if IS_MP else (None, None)
    for i, label in enumerate(("p50", "p99", "max")):
        emit("preempt", "µs interrupt to urgent task, interrupt level, %s" % label, "us",
             il[i], None if asy is None else asy[i], note=note)
    for i, label in enumerate(("p50", "p99", "max")):
        emit("preempt", "µs interrupt to urgent task, thread-level PriorityPolicy, %s" % label,
             "us", tl[i], None if asy is None else asy[i], note=note)
    if IS_MP:
        emit("preempt", "bytes per event, interrupt level", "B", il_bytes, asy_bytes, note=note)
    emit("preempt", "hog-loop stalls of 1 ms or more during the interrupt-level run", "n",
         il_run.stalls, None, ref_name="", note="the OS ran something else (shared machine)")
    emit("preempt", "longest hog-loop stall, interrupt-level run", "us", il_run.longest_stall,
         None, ref_name="", note="the tail of the response times follows these stalls")


main()
