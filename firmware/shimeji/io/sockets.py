"""Non-blocking sockets the same way on both runtimes.

MicroPython's sockets are streams: ``read``/``readinto``/``readline``/``write`` return None
when the operation would block. CPython's raise ``BlockingIOError`` and have no stream methods;
``SocketIO`` gives a CPython socket MicroPython's stream methods, so ``Stream`` has one code path.

``listen(host, port)`` binds a listening socket and returns its port. MicroPython's sockets
have no ``getsockname``: there, port 0 means "a free port in 49152-65535" chosen by shimeji
(random, retried while in use) instead of by the kernel. On a port without a ``socket``
module (qemu, a board without networking) this module still imports, so the streams' names
do (``from shimeji.asyncio import *``); ``listen`` and ``connect_nonblocking`` raise
``NoSockets``.
"""

from ..errors import BadArgument, NoSockets
from ..port import IS_MICROPYTHON

try:
    import socket
except ImportError:  # no networking on this port
    socket = None

_EINPROGRESS = (115, 36, 119)  # Linux, macOS/BSD, lwIP
_EADDRINUSE = (98, 48, 112)
_EAGAIN = (11, 35)

if IS_MICROPYTHON:
    _WOULD_BLOCK = OSError  # unused: MicroPython's sockets return None instead
else:
    try:
        from ssl import SSLWantReadError, SSLWantWriteError

        _WOULD_BLOCK = (BlockingIOError, SSLWantReadError, SSLWantWriteError)
    except ImportError:
        _WOULD_BLOCK = BlockingIOError


class SocketIO:
    """A CPython socket with MicroPython's non-blocking stream methods (None: would block)."""

    def __init__(self, sock):
        self.sock = sock

    def fileno(self):
        return self.sock.fileno()

    def read(self, n=-1):
        """Up to ``n`` bytes (all that is there for -1); b"" at the end; None if none yet."""
        if n >= 0:
            try:
                return self.sock.recv(n)
            except _WOULD_BLOCK:
                return None
        chunks = []
        while True:
            try:
                data = self.sock.recv(4096)
            except _WOULD_BLOCK:
                break
            chunks.append(data)
            if not data:
                break
        return b"".join(chunks) if chunks else None

    def readinto(self, buf):
        try:
            return self.sock.recv_into(buf)
        except _WOULD_BLOCK:
            return None

    def readline(self):
        """A line (with its newline), what is there if no newline came yet, or None."""
        try:
            peek = self.sock.recv(4096, socket.MSG_PEEK)
        except _WOULD_BLOCK:
            return None
        i = peek.find(b"\n")
        return self.sock.recv(len(peek) if i < 0 else i + 1)

    def write(self, buf):
        try:
            return self.sock.send(buf)
        except _WOULD_BLOCK:
            return None

    def close(self):
        self.sock.close()

    def __getattr__(self, name):  # accept, setsockopt, getpeername...
        return getattr(self.sock, name)


def _need_sockets(what):
    if socket is None:
        raise NoSockets("%s(): this port has no socket module; TCP streams need a board "
                        "with networking (or the unix port)" % what)


def check_address(what, host, port, lowest):
    """``BadArgument`` unless ``host`` is a str and ``port`` an int from ``lowest`` to 65535."""
    if not isinstance(host, str):
        raise BadArgument("%s(host, port): host must be a str such as '127.0.0.1' or "
                          "'0.0.0.0', got %r" % (what, host))
    if type(port) is not int or port < lowest or port > 65535:
        raise BadArgument("%s(host, port): port must be an int from %d to 65535, got %r"
                          % (what, lowest, port))


def stream_socket(sock):
    """``sock`` made non-blocking, with stream methods on every runtime."""
    sock.setblocking(False)
    return sock if IS_MICROPYTHON else SocketIO(sock)


def raw_socket(obj):
    """The socket under a ``SocketIO`` (or ``obj`` itself)."""
    return obj.sock if isinstance(obj, SocketIO) else obj


def listen(host, port, backlog=5):
    """A non-blocking listening TCP socket on ``host:port``; returns ``(sock, port)``."""
    _need_sockets("listen")
    ai = socket.getaddrinfo(host, port if port else 0)[0]
    if port or not IS_MICROPYTHON:
        s = _bound(ai[0], ai[-1])
        if not port:
            port = s.getsockname()[1]
    else:
        s, port = _bind_free_port(ai[0], host)
    s.listen(backlog)
    s.setblocking(False)
    return s, port


def _bound(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr)
    except BaseException:
        s.close()
        raise
    return s


def _bind_free_port(family, host):
    import random

    for _ in range(64):
        port = 49152 + random.getrandbits(14)
        try:
            return _bound(family, socket.getaddrinfo(host, port)[0][-1]), port
        except OSError as e:
            if e.errno not in _EADDRINUSE:
                raise
    raise OSError(_EADDRINUSE[0], "no free port found in 49152-65535")


def connect_nonblocking(host, port):
    """A non-blocking TCP socket whose connect to ``host:port`` has started."""
    _need_sockets("connect")
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], ai[1], ai[2])
    s.setblocking(False)
    try:
        s.connect(ai[-1])
    except OSError as e:
        if e.errno not in _EINPROGRESS and e.errno not in _EAGAIN:
            s.close()
            raise
    return s


def connect_error(sock):
    """The pending error of a finished non-blocking connect (0 if it succeeded or if the
    runtime cannot tell: then the first read or write reports it)."""
    try:
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    except (AttributeError, OSError):
        return 0
