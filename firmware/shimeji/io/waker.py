"""``WakeSocket``: a pair of local datagram sockets that ends the poller's idle wait.

The poller registers the receiving end like any other object. ``signal()`` (from another
thread, through ``StaticScheduler.wake`` and ``IOPoller.notify``) sends one byte unless one is
already pending; the poller reads it back with ``drain()``. Neither allocates.

Design note: ``signalled`` True means a byte is pending or about to be sent. A signal stores
True, then sends; a drain (only after a poll saw a byte) stores False, then reads ONE
datagram. A signal between the two finds False and sends a byte of its own, which stays
pending: datagrams come out in order and the one read is the older byte the poll saw. The
buffer is one byte long because MicroPython's ``readinto`` reads again until its buffer is
full: with 16 bytes it also took that signal's byte, ``signalled`` stayed True with nothing
pending, and every later signal was skipped (each idle then ran to its cap: session 26).
"""


class WakeSocket:
    """The two ends: ``rx`` (registered with the poll) and ``tx``. Make it with ``open()``."""

    def __init__(self, rx, tx):
        self.rx = rx
        self.tx = tx
        self.signalled = False  # a byte was sent and not read yet
        self._byte = b"!"
        self._buf = bytearray(1)  # one datagram per drain (the module's note)
        self._readinto = getattr(rx, "recv_into", None) or rx.readinto

    @classmethod
    def open(cls):
        """A new ``WakeSocket``, or None where the runtime has no local sockets."""
        try:
            rx, tx = _socket_pair()
            rx.setblocking(False)
            tx.setblocking(False)
        except (OSError, AttributeError, ImportError):
            return None
        return cls(rx, tx)

    def signal(self):
        """Make ``rx`` readable (once until ``drain``). Safe from another thread, not from a
        hard interrupt handler."""
        if not self.signalled:
            self.signalled = True
            try:
                self.tx.send(self._byte)
            except OSError:
                self.signalled = False

    def drain(self):
        """Read the pending byte back (one; a signal's since stays pending). Allocates
        nothing."""
        self.signalled = False
        try:
            self._readinto(self._buf)  # MicroPython: None when empty, never raises
        except OSError:
            pass  # CPython: nothing pending

    def close(self):
        self.rx.close()
        self.tx.close()


def _socket_pair():
    """A connected pair of local datagram sockets: ``socket.socketpair`` where it exists,
    else (the MicroPython unix port) two AF_UNIX sockets on a random abstract Linux name."""
    import socket

    if hasattr(socket, "socketpair"):
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    import random
    import struct

    addr = struct.pack("H", socket.AF_UNIX) + b"\0shimeji-wake-%d" % random.getrandbits(30)
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        rx.bind(addr)
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(addr)
    except OSError:
        rx.close()
        raise
    return rx, tx
