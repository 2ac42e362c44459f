# A small HTTP endpoint serving the task table: GET /tasks answers JSON rows (id, name, state,
# polls, waits on), GET / the same as a text table; anything else 404. Two worker tasks keep the
# table busy.
# Here:       make example NAME=http_status ARGS="8080"  then: curl http://127.0.0.1:8080/tasks
#             ARGS="0 2 demo": a free port, 2 requests made by the example's own client
# A board:    with a network up it listens on 0.0.0.0:8080; run on the emulated STM32L475 over
#             lwIP's PPP by `make netboard` (docs/boards.md), on no real board yet
# Arguments:  [port (0: a free one)] [requests to answer, then exit (default: until Ctrl-C)] [demo]
import json
import sys

import shimeji_board

from shimeji import Event, FifoPolicy, open_connection, sleep_ms, start_server
from shimeji.trace.table import format_table, task_table

args = sys.argv[1:] if hasattr(sys, "argv") else []
PORT = int(args[0]) if args else 8080
REQUESTS = int(args[1]) if len(args) > 1 else None
DEMO = "demo" in args
HOST = "127.0.0.1" if sys.platform in ("linux", "darwin") else "0.0.0.0"

board = shimeji_board.Board()
# 8 slots (main, the server, 2 workers, the demo client, 3 requests at once): ~4.7 KB of heap
# on a 32-bit board (its timer 2.6 KB more), and a board with lwIP has little (docs/boards.md).
sched = board.scheduler(8, policy=FifoPolicy(measure=True))  # measure: polls per task
answered = []
finished = Event()


def tasks_json():
    return json.dumps([{"id": r[0], "name": r[1], "state": r[2], "waits_on": r[3],
                        "polls": r[4]} for r in task_table(sched)])


async def respond(writer, status, ctype, body):
    body = body.encode()
    writer.write(b"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % (status, ctype, len(body)))
    writer.write(body)
    await writer.drain()


async def handle(reader, writer):
    request = await reader.readline()
    while True:  # skip the headers
        line = await reader.readline()
        if not line or line == b"\r\n":
            break
    parts = request.split()
    path = parts[1] if len(parts) > 1 else b""
    if path == b"/tasks":
        await respond(writer, b"200 OK", b"application/json", tasks_json())
    elif path == b"/":
        await respond(writer, b"200 OK", b"text/plain",
                      "\n".join(format_table(task_table(sched))) + "\n")
    else:
        await respond(writer, b"404 Not Found", b"text/plain", "no such page\n")
    await writer.wait_closed()
    answered.append(path)
    if REQUESTS is not None and len(answered) >= REQUESTS:
        finished.set()


async def worker(period_ms):
    while True:
        await sleep_ms(period_ms)


async def demo_client(port):
    for path in (b"/tasks", b"/nope"):
        reader, writer = await open_connection("127.0.0.1", port)
        writer.write(b"GET %s HTTP/1.0\r\nHost: shimeji\r\n\r\n" % path)
        await writer.drain()
        status = await reader.readline()
        reply = await reader.read()  # headers and body, to the end of the stream
        await writer.wait_closed()
        body = reply.split(b"\r\n\r\n", 1)[1]
        if path == b"/tasks":
            names = sorted(row["name"] for row in json.loads(body))
            print("GET /tasks: %s tasks %s" % (status.split()[1].decode(), names))
        else:
            print("GET /nope: %s" % status.split()[1].decode())


async def main():
    workers = [sched.spawn(worker(ms), name) for ms, name in ((5, "fast"), (50, "slow"))]
    server = await start_server(handle, HOST, PORT)
    print("http status on http://%s:%d/tasks" % (HOST, server.port))
    client = sched.spawn(demo_client(server.port), "client") if DEMO else None
    await finished.wait()
    if client is not None:
        await client
    server.close()
    await server.wait_closed()
    for w in workers:
        w.cancel()
    print("answered %d requests" % len(answered))


try:
    board.run(main(), sched)
except KeyboardInterrupt:  # Ctrl-C ends a server that runs for ever
    sched.close()  # every task ends: the server's, each connection's
    print("stopped by Ctrl-C: answered %d requests" % len(answered))
