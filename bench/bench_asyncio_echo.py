"""asyncio TCP echo: the same program on MicroPython's asyncio and on shimeji.asyncio.

A server echoes what it reads; 50 clients over loopback each send a 32-byte message and read
the echo back, ROUNDS times, all concurrently. Figures: round trips per second (higher is
better, so the row shows seconds per million round trips: lower is better, like every
figure) and bytes allocated per round trip (``gc.mem_alloc`` with the collector off).

Clients and server share one process there, so that figure is the CPU of both sides (and,
on a shared machine, how much of a core the process got). The third figure isolates the
server: the same server program, its clients in another process (``echo_driver.py``, a plain
``select.poll`` loop, the same for both runtimes), and the server process's CPU time (user +
system, ``/proc/self/stat``) per round trip it served (MicroPython only: it needs ``os.system``
to start the driver, and the unix port's ``sys.executable``).
"""

import asyncio as mp_asyncio
import gc
import os
import socket
import sys

from benchlib import IS_MICROPYTHON, emit, ns_since, start

import shimeji.asyncio as sh_asyncio

CLIENTS = 50
ROUNDS = 40
SPLIT_ROUNDS = 1000  # per client, against the separate driver: ~0.5 s of server CPU
MSG = b"0123456789abcdef0123456789abcdef"
REPS = 3


def free_port():
    """A loopback port nobody listens on (MicroPython's sockets have no getsockname, so try
    random ones)."""
    import random

    for _ in range(50):
        port = 30000 + random.getrandbits(14)
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise OSError("no free port found")


def nodelay(stream):
    """TCP_NODELAY on the stream's socket: without it the kernel's delayed ACKs, not the
    runtimes, set the pace of a ping-pong (both runtimes would measure ~40 ms per round)."""
    sock = getattr(stream, "s", None)  # MicroPython's Stream and shimeji's
    if sock is None:
        sock = stream.get_extra_info("socket")  # CPython's StreamWriter
    sock = getattr(sock, "sock", sock)  # shimeji's SocketIO on CPython
    if hasattr(sock, "setsockopt"):
        sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY


def echo(aio, port):
    async def handle(reader, writer):
        nodelay(writer)
        while True:
            data = await reader.read(64)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    connected = [0]

    async def client(go):
        reader, writer = await aio.open_connection("127.0.0.1", port)
        nodelay(writer)
        connected[0] += 1
        await go.wait()
        for _ in range(ROUNDS):
            writer.write(MSG)
            await writer.drain()
            got = await reader.readexactly(len(MSG))
            if got != MSG:
                raise ValueError("echo mismatch")
        writer.close()
        await writer.wait_closed()

    result = []

    async def main():
        server = await aio.start_server(handle, "127.0.0.1", port, backlog=CLIENTS)
        go = aio.Event()
        clients = [aio.create_task(client(go)) for _ in range(CLIENTS)]
        while connected[0] < CLIENTS:  # every client connected before the clock starts
            await aio.sleep(0.005)
        if IS_MICROPYTHON:
            gc.collect()
            gc.disable()
            before = gc.mem_alloc()
        t0 = start() if not IS_MICROPYTHON else None
        t0 = t0 if t0 is not None else _ticks()
        go.set()
        await aio.gather(*clients)
        ns = _since(t0)
        if IS_MICROPYTHON:
            result.append((ns, (gc.mem_alloc() - before) / (CLIENTS * ROUNDS)))
            gc.enable()
        else:
            result.append((ns, None))
        server.close()
        await server.wait_closed()

    aio.run(main())
    return result[0]


def cpu_ms():
    """User + system CPU time of this process, in ms (Linux ``/proc``; 10 ms steps)."""
    with open("/proc/self/stat") as f:
        fields = f.read().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) * 10


def server_cpu(aio, port, out_file):
    """The echo server alone: CLIENTS clients x SPLIT_ROUNDS from echo_driver.py in another
    process. Returns (server CPU µs per round trip, driver round trips, driver wall µs,
    driver CPU ms). The server's CPU is counted from all clients connected to all closed,
    over the round trips served in between."""
    served = [0, 0, 0]  # round trips served, connections ended, connections accepted
    marks = []
    done = aio.Event()

    async def handle(reader, writer):
        nodelay(writer)
        served[2] += 1
        while True:
            data = await reader.read(64)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            served[0] += 1
        writer.close()
        await writer.wait_closed()
        served[1] += 1
        if served[1] == CLIENTS:
            marks.append((cpu_ms(), served[0]))
            done.set()

    async def main():
        server = await aio.start_server(handle, "127.0.0.1", port, backlog=CLIENTS)
        driver = _BENCH_DIR + "/echo_driver.py"
        os.system("%s %s %d %d %d %d %s &" % (sys.executable, driver, port, CLIENTS,
                                              SPLIT_ROUNDS, len(MSG), out_file))
        while served[2] < CLIENTS:  # every client connected
            await aio.sleep(0.001)
        marks.append((cpu_ms(), served[0]))
        await done.wait()
        server.close()
        await server.wait_closed()

    aio.run(main())
    (c0, n0), (c1, n1) = marks
    for _ in range(500):  # the driver writes its figures as it exits
        try:
            with open(out_file) as f:
                trips, us, ms = (int(x) for x in f.read().split())
            break
        except (OSError, ValueError):
            _sleep_ms(10)
    else:
        raise OSError("echo_driver.py wrote no result to " + out_file)
    os.remove(out_file)
    return (c1 - c0) * 1000 / (n1 - n0), trips, us, ms


def _sleep_ms(ms):
    import time

    time.sleep_ms(ms)


_BENCH_DIR = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def _ticks():
    import time

    return time.ticks_us() if IS_MICROPYTHON else time.perf_counter_ns()


def _since(t0):
    if IS_MICROPYTHON:
        return ns_since(t0)
    import time

    return time.perf_counter_ns() - t0


def main():
    try:
        sh_asyncio.open_connection  # noqa: B018 (the streams come from shimeji.io)
    except (AttributeError, ImportError):
        emit("asyncio echo", "not run: shimeji.asyncio has no streams yet", "", None, None)
        return
    best = {}
    for _ in range(REPS):
        for name, aio in (("sh", sh_asyncio), ("as", mp_asyncio)):
            if aio is sh_asyncio:
                aio.new_event_loop()
            ns, per = echo(aio, free_port())
            rate = CLIENTS * ROUNDS * 1e9 / ns
            if name not in best or rate > best[name][0]:
                best[name] = (rate, per)
    emit("asyncio echo", "µs per round trip, 50 clients (1e6 / round trips per s)", "µs",
         round(1e6 / best["sh"][0], 1), round(1e6 / best["as"][0], 1))
    if best["sh"][1] is not None:
        emit("asyncio echo", "bytes allocated per round trip, 50 clients", "B",
             round(best["sh"][1], 1), round(best["as"][1], 1))
    if IS_MICROPYTHON:
        split_rows()


def split_rows():
    cpu = {}
    notes = {}
    out_file = "/tmp/shimeji_echo_driver_%d.txt" % (_ticks() & 0xFFFFFF)
    for _ in range(REPS):
        for name, aio in (("sh", sh_asyncio), ("as", mp_asyncio)):
            if aio is sh_asyncio:
                aio.new_event_loop()
            us, trips, wall_us, drv_ms = server_cpu(aio, free_port(), out_file)
            if name not in cpu or us < cpu[name]:
                cpu[name] = us
                notes[name] = (trips * 1000000 // max(wall_us, 1), drv_ms * 1000 / trips)
    note = ("clients in another process (echo_driver.py); round trips/s %d (shimeji) vs %d, "
            "the driver's CPU %.1f vs %.1f µs per round trip" % (
                notes["sh"][0], notes["as"][0], notes["sh"][1], notes["as"][1]))
    emit("asyncio echo", "server CPU µs per round trip, 50 clients", "µs",
         round(cpu["sh"], 2), round(cpu["as"], 2), note=note)


main()
