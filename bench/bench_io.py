"""io: waiting for sockets. The same programs on shimeji's streams and on MicroPython's asyncio.

- idle: 50 tasks wait to read 50 open, silent loopback sockets while one task sleeps 1 s: the
  loop's wake-ups in that second and the CPU time the process used (``/proc/self/stat``, 10 ms
  resolution);
- wake latency: another thread writes a byte every 2-4 ms; from just before the write to the
  reading task running again with that byte: p50 and p99 of each run of 200, five runs per
  runtime, shimeji's and asyncio's alternating (so both meet the same machine load), which of
  them goes first swapped every pair; the median run's figure (a burst of load in one run
  moves one run's p99 by milliseconds);
- echo: 50 clients and their 50 server connections in one loop over 127.0.0.1, 16-byte round
  trips: ns per round trip (round trips/s in the note) and heap bytes per round trip.

asyncio runs only on MicroPython (CPython's asyncio has another stream API): under CPython the
reference column is empty."""

import gc
import sys
import time

from benchlib import emit

from shimeji import RunLoop, StaticScheduler, Stream, Timer, open_connection, sleep_ms
from shimeji import start_server as sj_start_server
from shimeji.io.sockets import connect_nonblocking, listen, raw_socket, stream_socket

IS_MP = sys.implementation.name == "micropython"
N_SOCKETS = 50
N_CLIENTS = 50
ROUNDS = 40
LATENCY_SAMPLES = 200
LATENCY_REPS = 5

if IS_MP:
    import _thread

    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    sleep_ms_blocking = time.sleep_ms
else:
    import _thread

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_ms_blocking(ms):
        time.sleep(ms / 1000)


def cpu_ms():
    """User + system CPU time of this process, in ms (Linux ``/proc``; 10 ms steps)."""
    with open("/proc/self/stat") as f:
        fields = f.read().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) * 10


def tcp_pairs(n):
    srv, port = listen("127.0.0.1", 0, n)
    pairs = []
    for _ in range(n):
        a = connect_nonblocking("127.0.0.1", port)
        while True:
            try:
                b = srv.accept()[0]
                break
            except OSError:
                sleep_ms_blocking(1)
        pairs.append((stream_socket(a), stream_socket(b)))
    srv.close()
    return pairs


def close_pairs(pairs):
    for a, b in pairs:
        raw_socket(a).close()
        raw_socket(b).close()


def free_port():
    s, port = listen("127.0.0.1", 0)
    s.close()
    return port


# -- idle ------------------------------------------------------------------------------------


def idle_shimeji(pairs):
    s = StaticScheduler(64, timer=Timer())
    loop = RunLoop(s)

    async def silent(sock):
        await Stream(sock).read(1)

    async def main():
        await sleep_ms(1000)

    for a, _b in pairs:
        s.spawn(silent(a))
    h = s.spawn(main())
    c0 = cpu_ms()
    idles0 = loop.idles
    loop.run(h)
    used = cpu_ms() - c0
    wakes = loop.idles - idles0
    s.close()
    s.poller.close()
    return wakes, used


def idle_asyncio(pairs):
    import asyncio

    q = asyncio.core._io_queue
    inner = q.wait_io_event
    wakes = [0]

    def counting(dt):
        wakes[0] += 1
        return inner(dt)

    q.wait_io_event = counting
    result = []

    async def silent(sock):
        await asyncio.StreamReader(sock).read(1)

    async def main():
        tasks = [asyncio.create_task(silent(a)) for a, _b in pairs]
        await asyncio.sleep_ms(0)
        c0 = cpu_ms()
        w0 = wakes[0]
        await asyncio.sleep_ms(1000)
        result.append((wakes[0] - w0, cpu_ms() - c0))
        for t in tasks:
            t.cancel()

    try:
        asyncio.run(main())
    finally:
        q.wait_io_event = inner
    return result[0]


# -- wake latency ------------------------------------------------------------------------------


class Sender:
    """A thread that writes one byte every 2-4 ms: byte ``i % 256`` for the ``i``-th write,
    its time stamped in ``stamps[i]`` just before the write, so each read pairs with its own
    write (a late read measures against its byte's stamp, not the newest)."""

    def __init__(self, sock, n):
        self.sock = sock
        self.n = n
        self.stamps = [0] * n
        self.done = False

    def start(self):
        _thread.start_new_thread(self._main, ())

    def _main(self):
        sleep_ms_blocking(20)
        stamps = self.stamps
        for i in range(self.n):
            stamps[i] = ticks_us()
            self.sock.write(BYTES[i & 0xFF])
            sleep_ms_blocking(2 + (i % 3))
        self.done = True


BYTES = [bytes([k]) for k in range(256)]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, (len(xs) * p) // 100)]


def record(lat, sender, i, got):
    """The latency of the ``i``-th read, which returned ``got`` (checked: the ``i``-th byte)."""
    now = ticks_us()
    if got != BYTES[i & 0xFF]:
        raise ValueError("read %r, expected byte %d" % (got, i & 0xFF))
    lat.append(ticks_diff(now, sender.stamps[i]))


def latency_shimeji(a, b):
    s = StaticScheduler(4, timer=Timer())
    sender = Sender(a, LATENCY_SAMPLES)
    lat = []

    async def reader():
        r = Stream(b)
        for i in range(LATENCY_SAMPLES):
            record(lat, sender, i, await r.read(1))

    h = s.spawn(reader())
    sender.start()
    RunLoop(s).run(h)
    s.poller.close()
    while not sender.done:
        sleep_ms_blocking(1)
    return lat


def latency_asyncio(a, b):
    import asyncio

    sender = Sender(a, LATENCY_SAMPLES)
    lat = []

    async def reader():
        r = asyncio.StreamReader(b)
        sender.start()
        for i in range(LATENCY_SAMPLES):
            record(lat, sender, i, await r.read(1))

    asyncio.run(reader())
    while not sender.done:
        sleep_ms_blocking(1)
    return lat


# -- echo --------------------------------------------------------------------------------------

MSG = b"0123456789abcdef"


async def echo_handler(reader, writer):
    while True:
        data = await reader.read(64)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    await writer.wait_closed()


def echo_shimeji():
    s = StaticScheduler(2 * N_CLIENTS + 8, timer=Timer())
    out = []

    async def client(port):
        r, w = await open_connection("127.0.0.1", port)
        for _ in range(ROUNDS):
            w.write(MSG)
            await w.drain()
            await r.readexactly(len(MSG))
        await w.wait_closed()

    async def main():
        srv = await sj_start_server(echo_handler, "127.0.0.1", 0, N_CLIENTS)
        hs = [s.spawn(client(srv.port)) for _ in range(N_CLIENTS)]
        for h in hs:
            await h
        srv.close()
        await srv.wait_closed()

    out.append(measure(lambda: RunLoop(s).run(s.spawn(main()))))
    s.poller.close()
    return out[0]


def echo_asyncio():
    import asyncio

    port = free_port()

    async def client():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(ROUNDS):
            w.write(MSG)
            await w.drain()
            await r.readexactly(len(MSG))
        w.close()
        await w.wait_closed()

    async def main():
        srv = await asyncio.start_server(echo_handler, "127.0.0.1", port, N_CLIENTS)
        await asyncio.gather(*[client() for _ in range(N_CLIENTS)])
        srv.close()
        await srv.wait_closed()

    return measure(lambda: asyncio.run(main()))


def measure(fn):
    """(ns per round trip, bytes per round trip) of ``fn()`` (bytes: MicroPython only)."""
    trips = N_CLIENTS * ROUNDS
    gc.collect()
    if IS_MP:
        gc.disable()
        m0 = gc.mem_alloc()
    t0 = ticks_us()
    try:
        fn()
    finally:
        t1 = ticks_us()
        if IS_MP:
            m1 = gc.mem_alloc()
            gc.enable()
    ns = ticks_diff(t1, t0) * 1000 // trips
    return ns, ((m1 - m0) // trips if IS_MP else None)


def main():
    pairs = tcp_pairs(N_SOCKETS)
    wakes, cpu = idle_shimeji(pairs)
    ref = idle_asyncio(pairs) if IS_MP else (None, None)
    close_pairs(pairs)
    note = "50 silent sockets and one 1 s sleep"
    emit("io", "loop wake-ups in 1 s idle, 50 idle sockets", "n", wakes, ref[0], note=note)
    emit("io", "CPU ms in 1 s idle, 50 idle sockets", "ms", cpu, ref[1], note=note)

    (a, b), = tcp_pairs(1)
    runs = []
    ref_runs = []
    for rep in range(LATENCY_REPS):  # alternating, so both meet the same machine load
        if IS_MP and rep % 2:
            ref_runs.append(latency_asyncio(a, b))
        runs.append(latency_shimeji(a, b))
        if IS_MP and not rep % 2:
            ref_runs.append(latency_asyncio(a, b))
    close_pairs([(a, b)])
    for p in (50, 99):
        mine = sorted(percentile(lat, p) for lat in runs)
        ref = sorted(percentile(lat, p) for lat in ref_runs)
        note = ("a thread writes a byte every 2-4 ms; write to reader running; median of %d "
                "alternating runs of %d; runs %d-%d µs%s" % (
                    LATENCY_REPS, LATENCY_SAMPLES, mine[0], mine[-1],
                    " vs %d-%d µs" % (ref[0], ref[-1]) if ref else ""))
        emit("io", "µs data-to-task wake latency, p%d" % p, "µs", mine[len(mine) // 2],
             ref[len(ref) // 2] if ref else None, note=note)

    ns, nbytes = echo_shimeji()
    ref_ns, ref_bytes = echo_asyncio() if IS_MP else (None, None)
    note = "%d clients x %d round trips; round trips/s: shimeji %d%s" % (
        N_CLIENTS, ROUNDS, 10**9 // ns, ", asyncio %d" % (10**9 // ref_ns) if ref_ns else "")
    emit("io", "ns per echo round trip, 50 clients", "ns", ns, ref_ns, note=note)
    if IS_MP:
        emit("io", "bytes per echo round trip, 50 clients", "B", nbytes, ref_bytes, note=note)


if __name__ == "__main__":
    main()
