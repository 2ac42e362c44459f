"""Streams with the semantics of MicroPython's asyncio streams (extmod/asyncio/stream.py).

``Stream`` is both the reader and the writer (``StreamReader`` and ``StreamWriter`` are the
same class, as in MicroPython). It wraps any non-blocking stream object whose ``read``,
``readinto``, ``readline`` and ``write`` return None when they would block: a MicroPython
socket, a ``machine.UART``, an ``io.IOBase`` stream with ``ioctl``; on CPython a socket
(through ``sockets.SocketIO``) or a non-blocking ``FileIO`` such as a pipe.

Each read first waits for the object in the task's I/O poller (as MicroPython's asyncio
does) and then reads what is there: ``read(n)`` returns at most ``n`` bytes (b"" at the end
of the stream), ``read()`` reads to the end. ``write(buf)`` tries to send at once and keeps
what did not go out for ``drain()``; when everything goes out it allocates nothing. A peer
reset surfaces as the ``OSError`` of the read or write (ECONNRESET, EPIPE), an operation on a
closed stream as ``StreamClosed``. Nothing here is ISR-safe. TCP clients and servers that
give these streams (``open_connection``, ``start_server``): servers.py.

Misuse raises what MicroPython's asyncio streams do (its tests check): ``TypeError`` for a wrong
type, ``OSError`` for a write once closed, ``ValueError`` for ``readexactly(-1)`` (CPython's).
"""

import micropython

from .. import core
from .poller import POLLIN, POLLOUT
from .readop import CLOSED, READ_EXACT, READ_INTO, ReadOp, reader_busy, stream_closed
from .wait import wait_io


class Stream:
    """A reader and writer on the stream object ``s``; ``e``: what ``get_extra_info``
    returns (``{"peername": addr}`` for the streams of a server)."""

    def __init__(self, s, e=None):
        if s is None:  # (a read would blame the task: "await in the task that called it")
            raise TypeError("Stream(s): give the socket or stream object to wrap, got None")
        self.s = s
        self.e = e if e is not None else {}
        self.out_buf = b""
        self.closed = False
        self._op = ReadOp(self)

    def get_extra_info(self, v):
        """``"peername"`` (the peer's address) or another key given at construction. Not
        ISR-safe."""
        return self.e[v]

    def _check(self):
        if self.closed:
            raise stream_closed()

    def close(self):
        """Close the stream now: tasks waiting on it are woken and get ``StreamClosed``. Not
        ISR-safe."""
        if self.closed:
            return
        self.closed = True
        self._op.kind = CLOSED  # (the read waiting now, if any, raises StreamClosed)
        sched = core.current_context().sched  # (a worker's own poller)
        if sched is not None and sched.poller is not None:
            sched.poller.forget(self.s)
        close = getattr(self.s, "close", None)
        if close is not None:
            close()

    async def wait_closed(self):
        """Close the stream (if not yet) and let the other tasks run once. Tasks only (not
        ISR-safe)."""
        self.close()
        await core.yield_now()

    @micropython.native
    def read(self, n=-1):
        """Awaitable: at most ``n`` bytes (b"" at the end of the stream); ``n < 0``:
        everything up to the end of the stream. Tasks only (not ISR-safe)."""
        if type(n) is not int:
            raise _bad_size("read", n)
        if n < 0:
            return self._read_all()
        op = self._op
        if op.owner is not None and op.owner.io_obj is self.s:
            raise reader_busy(op.owner)
        if self.closed:
            return op  # its kind stays CLOSED: awaiting it raises StreamClosed
        op.kind = n  # (read(n)'s kind is n itself: ReadOp's design note)
        return op

    async def _read_all(self):
        r = b""
        while True:
            await wait_io(self.s, POLLIN)
            self._check()
            r2 = self.s.read(-1)
            if r2 is not None:
                if not len(r2):
                    return r
                r += r2

    def readinto(self, buf):
        """Awaitable: read into ``buf``; the number of bytes read (0 at the end, or None if
        the object had nothing after all). Tasks only (not ISR-safe)."""
        if buf is None or isinstance(buf, _NOT_BUFFERS):
            raise TypeError("Stream.readinto(buf): buf must be a writable buffer (a bytearray, "
                            "a memoryview of one, an array), got %r" % (buf,))
        op = self._op
        if op.owner is not None and op.owner.io_obj is self.s:
            raise reader_busy(op.owner)
        if self.closed:
            return op  # its kind stays CLOSED
        op.kind = READ_INTO
        op.buf = buf
        return op

    def readexactly(self, n):
        """Awaitable: exactly ``n`` bytes; raises ``EOFError`` if the stream ends first.
        Tasks only (not ISR-safe)."""
        if type(n) is not int or n < 0:
            raise _bad_size("readexactly", n)
        if not n:
            return _nothing()  # as MicroPython's: b"" at once, without waiting for data
        op = self._op
        if op.owner is not None and op.owner.io_obj is self.s:
            raise reader_busy(op.owner)
        if self.closed:
            return op  # its kind stays CLOSED
        op.kind = READ_EXACT
        op.n = n
        op.got = b""
        return op

    async def readline(self):
        """One line, with its b"\\n" (without one at the end of the stream; b"" after it).
        Tasks only (not ISR-safe)."""
        line = b""
        while True:
            await wait_io(self.s, POLLIN)
            self._check()
            l2 = self.s.readline()
            if l2 is None:
                continue
            line += l2
            if not l2 or line[-1] == 10:
                return line

    @micropython.native  # as bytecode, the try block puts its frame on the heap at every call
    def write(self, buf):
        """Send ``buf`` now if the object takes it, else keep it for ``drain()``. Allocates
        nothing when the object takes it all (or when ``buf`` is bytes and nothing is kept).
        Not ISR-safe."""
        try:
            if not self.out_buf:
                ret = self.s.write(buf)
                if ret == len(buf):
                    return
                if ret is not None:
                    buf = buf[ret:]
            self.out_buf += buf
            return
        except TypeError:
            pass  # raised below, outside the handler (native code has no 'raise ... from')
        raise TypeError("Stream.write(buf): give bytes, a bytearray or a memoryview (encode "
                        "a str first), got %r" % (buf,))

    def drain(self):
        """Awaitable: wait until everything written has gone out (partial writes and EAGAIN
        handled). Always lets the other tasks run, even with nothing to send; then (the usual
        case: ``write`` sent everything) it allocates nothing, so await it where you call it.
        Tasks only (not ISR-safe)."""
        if not self.out_buf:
            return _yield_now()
        return self._drain()

    async def _drain(self):
        mv = memoryview(self.out_buf)
        off = 0
        while off < len(mv):
            await wait_io(self.s, POLLOUT)
            self._check()
            ret = self.s.write(mv[off:])
            if ret is not None:
                off += ret
        self.out_buf = b""

    async def awrite(self, buf, off=0, sz=-1):
        """``write`` then ``drain`` (MicroPython's legacy API); ``off``/``sz``: a slice.
        Tasks only (not ISR-safe)."""
        if off != 0 or sz != -1:
            buf = memoryview(buf)
            if sz == -1:
                sz = len(buf)
            buf = buf[off:off + sz]
        self.write(buf)
        await self.drain()

    awritestr = awrite
    aclose = wait_closed


_yield_now = core.yield_now
_NOT_BUFFERS = (str, bytes, int)  # made once: a tuple in the call would allocate each read


def _bad_size(what, n):
    if type(n) is int:  # (readexactly(-1))
        return ValueError("Stream.readexactly(n): n must be at least 0, got %d" % n)
    return TypeError("Stream.%s(n): n must be an int (a number of bytes), got %r" % (what, n))


async def _nothing():
    return b""


StreamReader = Stream
StreamWriter = Stream
