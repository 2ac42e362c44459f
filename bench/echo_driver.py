"""The clients of bench_asyncio_echo's server-CPU figure, in a process of their own.

    micropython bench/echo_driver.py PORT CLIENTS ROUNDS MSG_LEN OUT_FILE

No runtime: CLIENTS sockets and one ``select.poll`` loop, the same for whichever server
(shimeji.asyncio or MicroPython's asyncio) it drives, so only the server's CPU differs. Each
client sends MSG_LEN bytes, waits for them to come back, ROUNDS times; all run concurrently.
Writes "ROUND_TRIPS WALL_US CPU_MS" (this process's user + system time) to OUT_FILE.
Runs on the MicroPython unix port and CPython.
"""

import select
import socket
import sys
import time

try:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
except AttributeError:  # CPython

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


def cpu_ms():
    """User + system CPU time of this process, in ms (Linux ``/proc``; 10 ms steps)."""
    with open("/proc/self/stat") as f:
        fields = f.read().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) * 10


def connect(addr):
    for _ in range(200):  # the server may not listen yet
        s = socket.socket()
        try:
            s.connect(addr)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)
    raise OSError("echo_driver: could not connect")


def drive(port, clients, rounds, msg_len):
    msg = b"x" * msg_len
    addr = socket.getaddrinfo("127.0.0.1", port)[0][-1]
    socks = [connect(addr) for _ in range(clients)]
    poller = select.poll()
    left = {}
    got = {}
    for s in socks:
        s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
        s.setblocking(False)
        poller.register(s, select.POLLIN)
        left[s] = rounds
        got[s] = 0
    c0 = cpu_ms()
    t0 = ticks_us()
    for s in socks:
        s.send(msg)
    trips = 0
    open_ = clients
    while open_:
        for s, _ev in poller.poll(1000):
            data = s.recv(msg_len)
            if not data:
                raise OSError("echo_driver: the server closed a connection")
            got[s] += len(data)
            if got[s] < msg_len:
                continue
            got[s] = 0
            trips += 1
            left[s] -= 1
            if left[s]:
                s.send(msg)
            else:
                poller.unregister(s)
                s.close()
                open_ -= 1
    return trips, ticks_diff(ticks_us(), t0), cpu_ms() - c0


def main():
    port, clients, rounds, msg_len = (int(a) for a in sys.argv[1:5])
    trips, us, ms = drive(port, clients, rounds, msg_len)
    with open(sys.argv[5], "w") as f:
        f.write("%d %d %d\n" % (trips, us, ms))


main()
