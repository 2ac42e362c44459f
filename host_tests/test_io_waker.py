# The wake socket's handshake (io/waker.py): ``signalled`` True means a byte is pending or
# about to be sent, however a signal from another thread falls against the poller's drain. The
# interleaving that lost it (a signal between drain's clear and its read) is played here step
# by step, on an in-memory pair that reads as MicroPython's stream ``readinto`` does and on the
# runtime's own sockets: no thread, no luck. Session 26: with a 16-byte buffer MicroPython's
# drain also read that signal's byte, ``signalled`` stayed True with nothing pending, every
# later signal was skipped and each idle ran to its cap (test_io_doze's gate test, under load).
import select

from shimeji.io.waker import WakeSocket
from support import _Skipped, heap_locked, micropython_only


def _needs_wake_socket(fn):
    """Skipped, saying so, where the runtime has no local sockets for a wake socket
    (``WakeSocket.open()`` is None: firmware with no network interface, the STM32L475 in qemu;
    the in-memory pair's tests run there)."""
    if isinstance(fn, _Skipped):
        return fn
    w = WakeSocket.open()
    if w is None:
        return _Skipped(fn, "needs local sockets for a wake socket, which this firmware has "
                            "not (WakeSocket.open() is None)")
    w.close()
    return fn


class _Datagrams:
    """Both ends of a local datagram pair, in memory. ``send`` queues one datagram;
    ``readinto`` reads datagrams until the buffer is full or none is left, as MicroPython's
    stream ``readinto`` does (``mp_stream_rw`` reads again until the size is reached; CPython's
    ``recv_into`` reads one). ``hook``, if set, runs once before the read: the other thread's
    turn, after drain's clear."""

    def __init__(self):
        self.queue = []
        self.hook = None

    def send(self, data):
        self.queue.append(bytes(data))
        return len(data)

    def readinto(self, buf):
        hook = self.hook
        self.hook = None
        if hook is not None:
            hook()
        n = 0
        while self.queue and n < len(buf):
            d = self.queue.pop(0)
            k = min(len(d), len(buf) - n)  # (a datagram longer than the room: truncated)
            buf[n:n + k] = d[:k]
            n += k
        return n or None


def test_a_signal_between_drains_clear_and_its_read_leaves_its_byte_pending():
    d = _Datagrams()
    w = WakeSocket(d, d)
    w.signal()  # the byte the poll saw
    assert w.signalled and len(d.queue) == 1
    d.hook = w.signal  # another thread's signal: finds signalled cleared, sends its own byte
    w.drain()
    assert w.signalled and len(d.queue) == 1, (w.signalled, d.queue)  # it ends the next poll
    w.drain()
    assert not w.signalled and d.queue == []
    w.signal()  # and a later signal still sends
    assert w.signalled and len(d.queue) == 1


def test_a_signal_before_the_drain_is_skipped_and_the_pending_byte_ends_the_poll():
    # The byte pending already ends the poll; the loop looks at its inbox after the drain.
    d = _Datagrams()
    w = WakeSocket(d, d)
    w.signal()
    w.signal()
    assert w.signalled and len(d.queue) == 1
    w.drain()
    assert not w.signalled and d.queue == []


def _readable(w):
    p = select.poll()
    p.register(w.rx, select.POLLIN)
    try:
        return bool(p.poll(0))
    finally:
        p.unregister(w.rx)


@_needs_wake_socket
def test_the_runtimes_own_sockets_keep_the_byte_of_a_signal_inside_a_drain():
    # The same interleaving on a real pair: after the drain, signalled and readable agree.
    w = WakeSocket.open()
    assert w is not None  # (a unix port or CPython: local sockets exist)
    try:
        real = w._readinto

        def signal_then_read(buf):
            w.signal()
            return real(buf)

        w.signal()
        w._readinto = signal_then_read
        w.drain()
        w._readinto = real
        assert w.signalled and _readable(w), (w.signalled, _readable(w))
        w.drain()
        assert not w.signalled and not _readable(w)
        w.drain()  # nothing pending: returns, reads nothing
        assert not w.signalled and not _readable(w)
        w.signal()
        assert w.signalled and _readable(w)
    finally:
        w.close()


@_needs_wake_socket
@micropython_only
def test_signal_and_drain_allocate_nothing():
    w = WakeSocket.open()
    try:
        for _ in range(3):
            heap_locked(w.signal)
            assert _readable(w)
            heap_locked(w.drain)
            assert not w.signalled and not _readable(w)
        heap_locked(w.drain)  # with nothing pending
    finally:
        w.close()
