"""Real sockets over loopback for the I/O tests, the same way on both runtimes, and the
scheduler with a timer and its run loop that they run in (``loop_with_timer``)."""

import socket
import time

from shimeji import RunLoop, StaticScheduler, Timer
from shimeji.io.sockets import connect_nonblocking, listen, raw_socket, stream_socket


def tcp_pair():
    """Two connected non-blocking TCP sockets over 127.0.0.1 (port chosen at bind time),
    with stream methods (``read``/``write``... None when they would block)."""
    srv, port = listen("127.0.0.1", 0, 1)
    try:
        a = connect_nonblocking("127.0.0.1", port)
        b = None
        for _ in range(2000):
            try:
                b = srv.accept()[0]
                break
            except OSError:
                time.sleep(0.001)
        assert b is not None, "accept timed out"
    finally:
        srv.close()
    return stream_socket(a), stream_socket(b)


def send_all(s, data):
    """Write all of ``data`` to a non-blocking stream socket, spinning on would-block."""
    view = memoryview(data)
    while len(view):
        n = s.write(view)
        if n:
            view = view[n:]


def close(*socks):
    for s in socks:
        raw_socket(s).close()


def reset(s):
    """Close ``s`` so that the peer gets a reset (RST), not an orderly end."""
    import struct

    raw = raw_socket(s)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()


def hung_up_reader(data):
    """A readable object whose writer is gone after writing ``data``, and a way to close it:
    on CPython a pipe's read end (its write end closed: ``poll`` reports POLLIN|POLLHUP, then
    POLLHUP alone once read); on MicroPython an ``io.IOBase`` stream whose ``ioctl`` reports
    the same (the unix port has no pipes). ``obj.read(n)`` returns b"" at the end."""
    try:
        import os

        pipe = os.pipe
    except (ImportError, AttributeError):
        pipe = None
    if pipe is not None:
        rfd, wfd = pipe()
        os.write(wfd, data)
        os.close(wfd)

        class PipeEnd:
            def fileno(self):
                return rfd

            def read(self, n):
                return os.read(rfd, n)

        return PipeEnd(), lambda: os.close(rfd)
    import io

    class HungUp(io.IOBase):
        def __init__(self):
            self.rx = data

        def read(self, n):
            out, self.rx = self.rx[:n], self.rx[n:]
            return out

        def ioctl(self, req, arg):
            if req == 3:  # MP_STREAM_POLL: the writer is gone (POLLHUP); POLLIN while data is left
                return (arg & 1 if self.rx else 0) | 0x10
            return -22  # EINVAL: no file descriptor (0 would make poll watch stdin instead)

    return HungUp(), lambda: None


def hung_up_writer():
    """A connected socket whose peer closed and that shut its own sending side (``poll``
    reports POLLHUP for it), and a way to close it; on MicroPython (no ``shutdown`` on the
    unix port's sockets) an ``io.IOBase`` stream whose ``ioctl`` reports POLLOUT|POLLHUP."""
    a, b = tcp_pair()
    raw = raw_socket(b)
    if hasattr(raw, "shutdown"):
        close(a)
        for _ in range(2000):  # until the peer's end (FIN) has arrived
            if b.read(1) == b"":
                break
            time.sleep(0.001)
        raw.shutdown(socket.SHUT_WR)
        return b, lambda: close(b)
    close(a, b)
    import io

    class HungUp(io.IOBase):
        def ioctl(self, req, arg):
            if req == 3:  # MP_STREAM_POLL
                return (arg & 4) | 0x10
            return -22  # EINVAL: no file descriptor (0 would make poll watch stdin instead)

    return HungUp(), lambda: None


def loop_with_timer():
    """A ``StaticScheduler`` of 8 slots with a ``Timer``, and a ``RunLoop`` over it."""
    s = StaticScheduler(8, timer=Timer())
    return s, RunLoop(s)


def run_to_end(main, capacity=16):
    """Spawn ``main`` on a new scheduler (``capacity`` slots, a ``Timer``), run a ``RunLoop``
    until it ends and return its result."""
    s = StaticScheduler(capacity, timer=Timer())
    loop = RunLoop(s)
    h = s.spawn(main)
    loop.run(h)
    return h.result()
