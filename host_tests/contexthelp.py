"""What test_executor_context*.py share: a probe task that checks, on an executor's worker,
that everything which finds "the calling task" finds its own (issue 14's per-core context),
and the loops it runs beside."""

import shimeji.asyncio as asyncio
from shimeji import (
    LockNotHeld,
    Mutex,
    RwLock,
    Timeout,
    core,
    current_task,
    port,
    sleep_ms,
    sleep_us,
    timeout,
    yield_now,
)
from shimeji.trace import kinds as K
from support import Bound, nap


class Probe:
    """A task to spawn on a worker: ``run()`` waits until ``go[0]`` (the loop it runs beside
    is mid-poll), then checks; ``bad`` lists what went wrong, ``done`` says it ended."""

    def __init__(self, go, mark, traces):
        self.go = go
        self.mark = mark  # a value of its own for Trace.mark
        self.traces = traces
        self.handle = None  # set by the spawner, before go
        self.bad = []
        self.done = False
        self.slept = []
        self.stage = "start"

    def check(self, ok, what):
        if not ok:
            self.bad.append(what)

    def own(self, where):
        self.stage = where
        self.check(current_task() is self.handle, "current_task() is not the task's own handle "
                   "(%s)" % where)

    async def run(self):
        try:
            while not self.go[0]:
                await sleep_ms(1)
            await self._checks()
        finally:
            self.done = True

    async def _checks(self):
        self.own("first")
        for _ in range(3):
            await yield_now()
            self.own("after yield_now")
        t0 = port.ticks_us()
        await sleep_ms(5)
        self._slept(t0, 5000, "sleep_ms(5)")
        t0 = port.ticks_us()
        await sleep_us(3000)
        self._slept(t0, 3000, "sleep_us(3000)")
        t0 = port.ticks_us()
        await asyncio.sleep_ms(4)  # the asyncio facade's, on a worker: shimeji's sleep
        self._slept(t0, 4000, "asyncio.sleep_ms(4)")
        t0 = port.ticks_us()
        try:
            await timeout(sleep_ms(10000), 5)
            self.check(False, "timeout(sleep_ms(10000), 5) did not time out")
        except Timeout:
            self._slept(t0, 5000, "timeout(..., 5)")
        self.own("after a timeout")
        self.check(await timeout(self._value(), 10000) == 7, "a timeout that ends in time")
        await self._locks()
        if self.traces:
            self._traced()

    async def _value(self):
        await sleep_ms(1)
        return 7

    def _slept(self, t0, least_us, what):
        us = port.ticks_diff(port.ticks_us(), t0)
        self.slept.append(us)
        self.check(us >= least_us, "%s ended after %d us (early)" % (what, us))
        self.own("after " + what)

    async def _locks(self):
        m = Mutex()
        await m.lock()
        self.check(await self._other(m.unlock), "another task's Mutex.unlock() was let through")
        m.unlock()  # (the holder's own: raises LockNotHeld if the lock recorded another task)
        self.check(m.try_lock(), "Mutex.try_lock() of a free Mutex")
        self.check(await self._other(m.unlock), "another task's unlock() after try_lock()")
        m.unlock()
        rw = RwLock()
        self.check(rw.try_write(), "RwLock.try_write() of a free RwLock")
        self.check(await self._other(rw.write_unlock), "another task's write_unlock()")
        rw.write_unlock()
        await rw.read()
        self.check(await self._other(rw.read_unlock), "another task's read_unlock()")
        rw.read_unlock()
        self.own("after the locks")

    async def _other(self, release):
        # True if ``release`` raises LockNotHeld in another task (spawned on this worker)
        refused = []

        async def other():
            try:
                release()
            except LockNotHeld:
                refused.append(1)

        await core.current_slot().sched.spawn(other())
        return refused == [1]

    def _traced(self):
        for t in self.traces:
            t.mark(self.mark)
        tid = self.handle.id
        found = [r for t in self.traces for r in t.records() if r[1] == K.MARK and
                 r[3] == self.mark]
        self.check(found and all(r[2] == tid for r in found),
                   "the trace's MARK names task %r, not %d" % ([r[2] for r in found], tid))


def spawn_probes(workers, go, traces=None):
    """A probe on each of ``workers`` (spawned from this thread), its handle set."""
    probes = []
    for i, w in enumerate(workers):
        p = Probe(go, 100 + i, traces)
        p.handle = w.spawn(p.run())
        probes.append(p)
    return probes


def spin_until(probes, seconds=30):
    """On the calling thread, without yielding (a poll that lasts): nap until every probe
    ended, at most ``seconds``."""
    bound = Bound(seconds)
    while not all(p.done for p in probes) and not bound.passed():
        nap()


def failures(probes):
    """What the probes found wrong, or that they did not end."""
    bad = []
    for p in probes:
        if not p.done:
            bad.append("probe %d did not end (at %s)" % (p.mark, p.stage))
        bad.extend(p.bad)
    return bad
