"""TCP over streams: ``open_connection`` (a client) and ``start_server`` (a ``Server`` that
runs a task per connection), both giving ``Stream``s (streams.py), as MicroPython's asyncio
(extmod/asyncio/stream.py) does.

A refused connection raises ``OSError`` from ``open_connection`` where the runtime reports it
(CPython), else at the first read or write (MicroPython). ``start_server`` spawns one task per
connection on the caller's scheduler; a full static pool refuses the connection (closes it)
rather than failing the server. Port 0 asks for a free port (``Server.port`` says which).
Calls that could never work raise ``BadArgument`` before any socket is made. Nothing here is
ISR-safe.
"""

from .. import core
from ..errors import BadArgument, Cancelled, NotACoroutine, PoolFull
from .poller import POLLIN, POLLOUT
from .sockets import (
    check_address,
    connect_error,
    connect_nonblocking,
    listen,
    raw_socket,
    stream_socket,
)
from .streams import Stream
from .wait import wait_io


async def open_connection(host, port, ssl=None, server_hostname=None):
    """Connect over TCP; returns ``(reader, writer)`` (one ``Stream`` twice). ``ssl``: an
    ``SSLContext`` or True. A refused connection raises ``OSError`` here where the runtime
    reports it (CPython), else at the first read or write (MicroPython, like its asyncio).
    A ``host`` that is not a str, or a ``port`` outside 1-65535, raises ``BadArgument``. Tasks
    only (not ISR-safe)."""
    check_address("open_connection", host, port, 1)
    s = connect_nonblocking(host, port)
    if ssl:
        s = _wrap_client(s, ssl, server_hostname or host)
    obj = stream_socket(s)
    await wait_io(obj, POLLOUT)
    err = connect_error(raw_socket(obj))
    if err:
        _forget_close(obj)
        raise OSError(err, "connect to %s:%s failed" % (host, port))
    ss = Stream(obj, {"peername": (host, port)})
    return ss, ss


def _wrap_client(s, ssl, server_hostname):
    if ssl is True:
        import ssl as _ssl

        ssl = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
    s = ssl.wrap_socket(s, server_hostname=server_hostname, do_handshake_on_connect=False)
    s.setblocking(False)
    return s


def _forget_close(obj):
    sched = core.current_context().sched  # (a worker's own poller)
    if sched is not None and sched.poller is not None:
        sched.poller.forget(obj)
    obj.close()


class Server:
    """A listening TCP server (``start_server``): ``close()``, ``await wait_closed()``,
    ``async with``. ``port``: the port it listens on (useful with port 0)."""

    def __init__(self):
        self.task = None
        self.sock = None
        self.port = 0
        self.state = False  # closed on purpose (close()), not cancelled from outside
        self.started = False
        self._joined = False

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.close()
        await self.wait_closed()

    def close(self):
        """Stop accepting; the listening socket is closed. Open connections stay open. Not
        ISR-safe."""
        self.state = True
        self.task.cancel()

    async def wait_closed(self):
        """Wait until the server's task has ended. Tasks only (not ISR-safe)."""
        if not self._joined:
            self._joined = True
            await self.task

    async def _serve(self, s, cb, ssl):
        spawn = core.current_slot().sched.spawn
        self.started = True
        try:
            while True:
                try:
                    await wait_io(s, POLLIN)
                except Cancelled:
                    if self.state:
                        return
                    raise
                try:
                    s2, addr = s.accept()
                except OSError:
                    continue  # the client went away before we took it
                if ssl:
                    try:
                        s2 = ssl.wrap_socket(s2, server_side=True,
                                             do_handshake_on_connect=False)
                    except OSError:
                        s2.close()
                        continue
                s2s = Stream(stream_socket(s2), {"peername": addr})
                try:
                    spawn(handler_coro(cb, s2s), "conn").detach()
                except PoolFull:
                    s2s.close()  # no task slot for it: refuse the connection
                except BaseException:
                    s2s.close()  # cb is not a coroutine function: end the server with that
                    raise
        finally:
            _forget_close(s)  # whatever ends the server, its socket is not left open


def handler_coro(cb, s2s):
    """``cb(s2s, s2s)``, a connection's coroutine; ``NotACoroutine`` if ``cb`` is not async."""
    coro = cb(s2s, s2s)
    if not hasattr(coro, "send"):
        if hasattr(coro, "close"):
            coro.close()
        raise NotACoroutine("start_server(cb): cb(reader, writer) must return a coroutine "
                            "(make cb an async def function), got %r; the server stopped"
                            % (coro,))
    return coro


def check_server_args(cb, host, port, backlog):
    """``BadArgument`` for a ``start_server`` call that could never serve."""
    if not callable(cb):
        raise BadArgument("start_server(cb, host, port): cb must be an async def function "
                          "taking (reader, writer), got %r" % (cb,))
    check_address("start_server", host, port, 0)
    if type(backlog) is not int or backlog < 0:
        raise BadArgument("start_server(backlog=%r): give an int of at least 0 (waiting "
                          "connections)" % (backlog,))


async def start_server(cb, host, port, backlog=5, ssl=None):
    """Listen on ``host:port`` (0: any free port, see ``Server.port``) and run
    ``cb(reader, writer)`` as a new task for each connection; returns the ``Server``.
    Raises ``BadArgument`` for a ``cb`` that is not callable, a ``host`` that is not a str or
    a ``port`` outside 0-65535; if ``cb`` turns out not to be an ``async def`` function, the
    first connection is closed and the server ends with ``NotACoroutine`` (``wait_closed``).
    Tasks only (not ISR-safe)."""
    check_server_args(cb, host, port, backlog)
    s, bound = listen(host, port, backlog)
    obj = stream_socket(s)
    srv = Server()
    srv.sock = obj
    srv.port = bound
    srv.task = core.current_slot().sched.spawn(srv._serve(obj, cb, ssl), "server")
    try:
        while not srv.started:  # the server task starts before anyone can close it
            await core.yield_now()
    except Cancelled:
        srv.task.cancel()
        raise
    return srv
