"""The facade's streams: ``shimeji.io``'s ``Stream`` and ``open_connection``, and a
``start_server`` whose server and connection tasks are asyncio ``Task``s.

As in MicroPython's asyncio, the server runs in a ``Task`` (``server.task``): awaiting
``wait_closed()`` awaits that task, so cancelling the awaiting task is forwarded to the server,
which closes its socket; each connection's callback runs in a ``Task`` made by
``create_task`` (an error nobody awaits goes to the loop's exception handler).
"""

from .. import core
from ..io.poller import POLLIN
from ..io.servers import Server as _IOServer
from ..io.servers import _forget_close, check_server_args, open_connection
from ..io.sockets import listen, stream_socket
from ..io.streams import Stream, StreamReader, StreamWriter
from ..io.wait import wait_io
from .loop import create_task, sleep_ms
from .onworkers import refuse_on_worker
from .task import CancelledError

_threads = core._threads  # (executor workers registered: core.py)
_SERVER_ON_A_WORKER = ("the facade's server runs in asyncio Tasks of its loop's thread. On a "
                       "worker use shimeji.io.start_server(cb, host, port) (its connection "
                       "tasks are spawned on that worker), or start this server from the "
                       "loop's task; open_connection and Stream work on a worker")


class Server(_IOServer):
    """A listening TCP server: ``close()``, ``await wait_closed()``, ``async with``;
    ``port`` is the port it listens on (useful with port 0). CPython's ``serve_forever()``,
    ``is_serving()`` and ``sockets`` too. Not ISR-safe."""

    async def wait_closed(self):
        """Wait until the server's task has ended."""
        await self.task

    async def serve_forever(self):
        """Wait until the server is closed (CPython's; it serves from ``start_server`` on).
        Cancelling the waiting task closes the server."""
        await self.task

    def is_serving(self):
        return not self.state and not self.task.done()

    @property
    def sockets(self):
        """The listening socket in a tuple, empty once closed (CPython's ``Server.sockets``;
        MicroPython's sockets have no ``getsockname()``: read ``port`` there)."""
        return () if self.state or self.task.done() else (self.sock,)

    async def _serve(self, s, cb, ssl):
        self.started = True
        try:
            while True:
                try:
                    await wait_io(s, POLLIN)
                except CancelledError:
                    if self.state:
                        return  # closed on purpose
                    raise
                try:
                    s2, addr = s.accept()
                except OSError:
                    continue  # the client went away before we took it
                if ssl:
                    try:
                        s2 = ssl.wrap_socket(s2, server_side=True,
                                             do_handshake_on_connect=False)
                    except OSError as e:
                        _print_exception(e)
                        s2.close()
                        continue
                s2s = Stream(stream_socket(s2), {"peername": addr})
                try:
                    create_task(cb(s2s, s2s))
                except BaseException:  # (TypeError: cb is not an async def function)
                    s2s.close()
                    raise
        finally:
            _forget_close(s)  # whatever ends the server, its socket is not left open


def _unchecked(reader, writer):  # (stands for cb in check_server_args)
    pass


def _print_exception(e):
    import sys

    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        print(repr(e))


async def start_server(cb, host, port, backlog=5, ssl=None):
    """Listen on ``host:port`` and run ``cb(reader, writer)`` in a new task for each
    connection; returns the ``Server``. ``BadArgument`` for a ``host`` that is not a str or
    a ``port`` outside 0-65535. ``cb`` is not checked, as in MicroPython (whose tests pass
    None for a server nobody connects to): a bad one fails that connection's task.
    ``WrongThread`` on an executor worker's thread, before it listens (its tasks are the
    loop's): use ``shimeji.io.start_server`` there."""
    if _threads:
        refuse_on_worker("start_server()", _SERVER_ON_A_WORKER)
    check_server_args(_unchecked, host, port, backlog)
    s, bound = listen(host, port, backlog)
    obj = stream_socket(s)
    srv = Server()
    srv.sock = obj
    srv.port = bound
    srv.task = create_task(srv._serve(obj, cb, ssl))
    try:
        await sleep_ms(0)  # the server task starts before anyone can close it
    except CancelledError as er:
        srv.task.cancel()
        raise er
    return srv


__all__ = ("Stream", "StreamReader", "StreamWriter", "open_connection", "start_server",
           "Server")
