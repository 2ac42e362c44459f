"""Real sockets over loopback for the I/O tests, the same way on both runtimes."""

import socket
import time

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
