# A TCP echo server on shimeji's streams: one task per connection, each echoing what it reads.
# Here:       make example NAME=echo_server ARGS="7777"   then, in another shell: nc 127.0.0.1 7777
#             ARGS="0 2 demo": a free port, 2 connections made by the example's own clients
#             (no nc needed: make venv does not install it)
# A board:    with a network up it listens on 0.0.0.0:7777; run on the emulated STM32L475 over
#             lwIP's PPP by `make netboard` (docs/boards.md), on no real board yet
# Arguments:  [port (0: a free one)] [connections to serve, then exit (default: till Ctrl-C)]
#             [demo]
import sys

import shimeji_board

from shimeji import Event, open_connection, start_server

args = sys.argv[1:] if hasattr(sys, "argv") else []
PORT = int(args[0]) if args else 7777
CONNECTIONS = int(args[1]) if len(args) > 1 else None
DEMO = "demo" in args
HOST = "127.0.0.1" if sys.platform in ("linux", "darwin") else "0.0.0.0"

board = shimeji_board.Board()
# 8 slots: main, the server and 6 connections at once (4.7 KB of a 32-bit board's heap); the
# STM32L475 with lwIP has ~69 KB, of which importing shimeji's streams and the scheduler takes
# 43 KB (docs/boards.md, "A network on the emulated STM32").
sched = board.scheduler(8)
finished = Event()
served = []  # bytes echoed, per connection that ended


async def echo(reader, writer):
    total = 0
    while True:
        data = await reader.read(512)
        if not data:  # the client closed its end
            break
        writer.write(data)
        await writer.drain()
        total += len(data)
    await writer.wait_closed()
    served.append(total)
    if CONNECTIONS is not None and len(served) >= CONNECTIONS:
        finished.set()


async def demo_client(port, name):
    reader, writer = await open_connection("127.0.0.1", port)
    for i in range(3):
        writer.write(b"%s line %d\n" % (name, i))
        await writer.drain()
        line = await reader.readline()
        print("client %s got %r" % (name.decode(), line))
    await writer.wait_closed()


async def main():
    server = await start_server(echo, HOST, PORT)
    print("echo server listening on %s:%d" % (HOST, server.port))
    clients = []
    if DEMO:
        for i in range(CONNECTIONS or 1):
            clients.append(sched.spawn(demo_client(server.port, b"c%d" % i), "client"))
    await finished.wait()
    for c in clients:
        await c
    server.close()
    await server.wait_closed()
    print("served %d connections, %d bytes echoed" % (len(served), sum(served)))


try:
    board.run(main(), sched)
except KeyboardInterrupt:  # Ctrl-C ends a server that runs for ever
    sched.close()  # every task ends: the server's, each connection's
    print("stopped by Ctrl-C: served %d connections, %d bytes echoed" % (len(served), sum(served)))
