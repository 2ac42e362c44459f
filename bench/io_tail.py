"""io tail: bench_io's wake latency, every sample kept, with what each sample met.

Not a ``make bench`` workload (no ``bench_`` prefix): ``tools/io_tail.py`` runs it in several
processes and reads its ``TAIL {json}`` lines, one per set of ``SAMPLES`` wakes. The sets
alternate shimeji / asyncio as in bench_io.py, on the same socket pair and the same ``Sender``
thread; each sample records:

- ``lat``: µs from the stamp just before the sender's write to the reader holding its byte
  (bench_io's figure, measured identically);
- ``wr``: µs the sender's ``write`` call took (a second stamp after it: a write that the
  kernel's wake of the reader, or a preemption of the sender, stretched);
- ``late``: 1 if the reader awaited its byte only after the stamp (it was not waiting yet);
- ``it``, ``idl`` (shimeji only): run-loop iterations and idles since the previous sample.

Per set: ``alloc``, the heap's growth over the set (``gc.mem_alloc()``, which walks the whole
heap: read per set, not per sample; negative: a collection ran), the reader thread's
voluntary and involuntary context switches (``/proc/thread-self/status``) and CPU migrations
(``migr``, ``/proc/thread-self/sched``), the process's minor page faults (``minflt``), the
load average before the set, the reader thread's CPU ms in the set (10 ms steps).

``IO_TAIL_TICKER_MS`` (env): a second task on each side sleeps that many ms in a loop, so
the loop idles towards timer deadlines too (bench_io has none).
``IO_TAIL_REST_US`` (env): shimeji's ``poller.rest_slice_us`` ("none": one blind idle).
``IO_TAIL_SETS`` (env, default 5): sets per runtime; ``IO_TAIL_COUNT=1``: asyncio's
``wait_io_event`` wrapped to count its polls per sample (adds a call to asyncio's side: the
latencies of such a run are not comparable).
``IO_TAIL_SPLIT=1`` (env): each sample also records ``woke``, µs from the last poll's return to
the reader holding its byte (the runtime's wake half: dispatch, loop, tick, resumption, the
read), so ``lat - woke`` is the sender's write and the kernel's wake of the reader. Both sides
get the same stamp: the ``ipoll`` of their ``select.poll`` object wrapped in one closure (the
same Python call added to each; shimeji's ``poller._ipoll``, asyncio's I/O queue's poller).
``IO_TAIL_PREFAULT=1`` (env): the heap's first 24 MB touched (a bytearray made and collected)
before the first set, so that no wake meets a page the process has not faulted in yet (a set
faults in 10-12 pages on shimeji, 21-22 on asyncio, as their heaps grow: ``minflt``).
``IO_TAIL_TOUCH=pages``, ``lines`` or ``chase`` (env, with ``IO_TAIL_SPLIT``): that wrapper
also reads 20 bytes of a buffer nothing else touches, one per line, on 20 pages or all on one
page, or on the 20 pages as a dependent chain (each read finds the next one's address), so that
runs compare cold pages, cold lines and dependent misses (docs/benchmarks.md, "Session 25: the
I/O wake tail")."""

import gc
import json
import os
import sys

import bench_io
from bench_io import (
    BYTES,
    LATENCY_SAMPLES,
    close_pairs,
    sleep_ms_blocking,
    tcp_pairs,
    ticks_diff,
    ticks_us,
)

from shimeji import RunLoop, StaticScheduler, Stream, Timer, poller_for, sleep_ms

IS_MP = sys.implementation.name == "micropython"
SAMPLES = LATENCY_SAMPLES
SETS = int(os.getenv("IO_TAIL_SETS") or 5) if IS_MP else 5
COUNT = (os.getenv("IO_TAIL_COUNT") or "") == "1" if IS_MP else False
TICKER_MS = int(os.getenv("IO_TAIL_TICKER_MS") or 0) if IS_MP else 0
REST_US = os.getenv("IO_TAIL_REST_US") if IS_MP else None
SPLIT = (os.getenv("IO_TAIL_SPLIT") or "") == "1" if IS_MP else False
POLLED = [0]  # when the last (stamped) poll returned
if IS_MP and (os.getenv("IO_TAIL_PREFAULT") or "") == "1":
    _b = bytearray(24 * 1024 * 1024)  # every page of the heap's first 24 MB touched once
    del _b
    gc.collect()  # (allocation starts again at the heap's bottom, on pages faulted in)


TOUCH = (os.getenv("IO_TAIL_TOUCH") or "") if IS_MP else ""
_K = 20  # IO_TAIL_TOUCH's reads: 20 lines on 20 pages or on one, in the same shuffled order
_OFFS = tuple(((i * 7) % _K) * 4096 + ((i * 5) % 60) * 64 if TOUCH != "lines" else
              ((i * 7) % _K) * 192 + 64 for i in range(_K)) if TOUCH else ()
_BUF = bytearray(_K * 4096 + 4096) if TOUCH else None
_CHASE = TOUCH == "chase"  # the pages' reads, each finding the next one's word index
if _CHASE:
    for _i in range(_K):
        _BUF[_OFFS[_i]:_OFFS[_i] + 4] = (_OFFS[(_i + 1) % _K] // 4).to_bytes(4, "little")

if TOUCH:
    import micropython

    @micropython.viper
    def _touch(buf, offs, n: int) -> int:
        p = ptr8(buf)  # noqa: F821 (viper's cast)
        acc = 0
        for i in range(n):
            acc += p[int(offs[i])]
        return acc

    @micropython.viper
    def _chase(buf, k: int, n: int) -> int:
        p = ptr32(buf)  # noqa: F821 (viper's cast)
        for _ in range(n):
            k = p[k]
        return k


def stamped(ipoll):
    """``ipoll`` that stamps ``POLLED[0]`` as its system call returns (``IO_TAIL_SPLIT``), and
    with ``IO_TAIL_TOUCH`` reads 20 lines after the stamp (the same reads on both runtimes)."""
    def ipoll_stamped(timeout_ms):
        it = ipoll(timeout_ms)
        POLLED[0] = ticks_us()
        if _CHASE:
            _chase(_BUF, _OFFS[0] // 4, _K)
        elif TOUCH:
            _touch(_BUF, _OFFS, _K)
        return it

    return ipoll_stamped


class StampedPoll:
    """asyncio's I/O queue's ``select.poll``, its ``ipoll`` stamped as shimeji's is."""

    def __init__(self, poll):
        self.inner = poll
        self.register = poll.register
        self.modify = poll.modify
        self.unregister = poll.unregister
        self.ipoll = stamped(poll.ipoll)


class Sender(bench_io.Sender):
    """bench_io's sender, with a second stamp after each write."""

    def __init__(self, sock, n):
        super().__init__(sock, n)
        self.after = [0] * n

    def _main(self):
        sleep_ms_blocking(20)
        stamps = self.stamps
        after = self.after
        sock = self.sock
        for i in range(self.n):
            stamps[i] = ticks_us()
            sock.write(BYTES[i & 0xFF])
            after[i] = ticks_us()
            sleep_ms_blocking(2 + (i % 3))
        self.done = True


class Rec:
    """Per-sample columns, preallocated (recording allocates nothing on the measured path)."""

    def __init__(self, sender):
        self.sender = sender
        self.lat = [0] * SAMPLES
        self.late = [0] * SAMPLES
        self.it = [0] * SAMPLES
        self.idl = [0] * SAMPLES
        self.polls = [0] * SAMPLES
        self.woke = [0] * SAMPLES
        self.t_await = 0
        self.mem = heap()

    def before(self):
        self.t_await = ticks_us()

    def record(self, i, got, loop=None):
        now = ticks_us()
        if got != BYTES[i & 0xFF]:
            raise ValueError("read %r, expected byte %d" % (got, i & 0xFF))
        stamp = self.sender.stamps[i]
        self.lat[i] = ticks_diff(now, stamp)
        self.late[i] = 1 if ticks_diff(self.t_await, stamp) > 0 else 0
        self.woke[i] = ticks_diff(now, POLLED[0])
        if loop is not None:
            self.it[i] = loop.iterations
            self.idl[i] = loop.idles

    def out(self, runtime, k, ctx0, ctx1, load, cpu):
        alloc = heap() - self.mem
        s = self.sender
        wr = [ticks_diff(s.after[i], s.stamps[i]) for i in range(SAMPLES)]
        it = [self.it[i] - self.it[i - 1] if i else 0 for i in range(SAMPLES)]
        idl = [self.idl[i] - self.idl[i - 1] if i else 0 for i in range(SAMPLES)]
        print("TAIL " + json.dumps({
            "runtime": runtime, "set": k, "lat": self.lat, "wr": wr, "alloc": alloc,
            "late": self.late, "it": it, "idl": idl, "polls": self.polls,
            "vcsw": ctx1[0] - ctx0[0], "ivcsw": ctx1[1] - ctx0[1], "load": load,
            "migr": ctx1[2] - ctx0[2], "minflt": ctx1[3] - ctx0[3],
            "cpu_ms": cpu, "woke": self.woke if SPLIT else []}))


def heap():
    return gc.mem_alloc() if IS_MP else 0


def ctx_switches():
    """(voluntary, involuntary context switches, CPU migrations) of this thread so far and the
    process's minor page faults (``/proc``: read between sets, never inside one)."""
    v = iv = migr = flt = 0
    try:
        with open("/proc/thread-self/status") as f:
            for line in f.read().split("\n"):
                if line.startswith("voluntary_ctxt_switches"):
                    v = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    iv = int(line.split()[1])
        with open("/proc/thread-self/sched") as f:
            for line in f.read().split("\n"):
                if line.startswith("se.nr_migrations"):
                    migr = int(line.split()[-1])
        with open("/proc/self/stat") as f:
            flt = int(f.read().split(")")[-1].split()[7])
    except OSError:
        pass
    return v, iv, migr, flt


def cpu_ms():
    """This thread's user + system CPU time so far, in ms (10 ms steps)."""
    with open("/proc/thread-self/stat") as f:
        fields = f.read().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) * 10


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def tail_shimeji(a, b, k):
    s = StaticScheduler(4, timer=Timer())
    sender = Sender(a, SAMPLES)
    rec = Rec(sender)
    loop = RunLoop(s)

    async def reader():
        r = Stream(b)
        for i in range(SAMPLES):
            rec.before()
            rec.record(i, await r.read(1), loop)
        done[0] = True

    async def ticker():
        while not done[0]:
            await sleep_ms(TICKER_MS)

    done = [False]
    if REST_US:
        poller_for(s).rest_slice_us = None if REST_US == "none" else int(REST_US)
    if SPLIT:
        poller = poller_for(s)
        poller._ipoll = stamped(poller._ipoll)
    h = s.spawn(reader())
    if TICKER_MS:
        s.spawn(ticker())
    load = loadavg()
    c0 = ctx_switches()
    t0 = cpu_ms()
    sender.start()
    loop.run(h)
    c1 = ctx_switches()
    cpu = cpu_ms() - t0
    s.poller.close()
    while not sender.done:
        sleep_ms_blocking(1)
    rec.out("shimeji", k, c0, c1, load, cpu)


def tail_asyncio(a, b, k):
    import asyncio

    sender = Sender(a, SAMPLES)
    rec = Rec(sender)
    q = asyncio.core._io_queue
    inner = q.wait_io_event
    polls = [0]
    if COUNT:
        def counting(dt):
            polls[0] += 1
            return inner(dt)

        q.wait_io_event = counting
    if SPLIT:
        q.poller = StampedPoll(q.poller)
    ctx = []

    async def ticker():
        while not done[0]:
            await asyncio.sleep_ms(TICKER_MS)

    done = [False]

    async def reader():
        r = asyncio.StreamReader(b)
        if TICKER_MS:
            asyncio.create_task(ticker())
        ctx.append(ctx_switches())
        ctx.append(cpu_ms())
        sender.start()
        for i in range(SAMPLES):
            rec.before()
            got = await r.read(1)
            rec.record(i, got)
            rec.polls[i] = polls[0]
        done[0] = True

    load = loadavg()
    try:
        asyncio.run(reader())
    finally:
        q.wait_io_event = inner
        if SPLIT:
            q.poller = q.poller.inner
    c1 = ctx_switches()
    cpu = cpu_ms() - ctx[1]
    while not sender.done:
        sleep_ms_blocking(1)
    if COUNT:
        rec.polls = [rec.polls[i] - rec.polls[i - 1] if i else 0 for i in range(SAMPLES)]
    rec.out("asyncio", k, ctx[0], c1, load, cpu)


def main():
    (a, b), = tcp_pairs(1)
    for k in range(SETS):
        tail_shimeji(a, b, k)
        if IS_MP:
            tail_asyncio(a, b, k)
    close_pairs([(a, b)])


main()
