# shimeji.asyncio: the whole facade imported at once (``from shimeji.asyncio import *``) and
# its streams on a port without sockets, on both runtimes. Apart from test_asyncio_facade.py:
# importing every module of the facade (and shimeji.io) takes ~9 KB of a 32-bit heap for good,
# which the loop tests there need on an STM32L475 (~87 KB after boot).
import gc

import shimeji.asyncio as asyncio
from support import raises


def _fresh():
    asyncio.set_event_loop(None)  # the old loop goes first (see test_asyncio_facade._fresh)
    gc.collect()
    return asyncio.new_event_loop()


def test_import_star_and_main_exception():
    ns = {}
    exec("from shimeji.asyncio import *", ns)
    for name in ("run", "create_task", "gather", "Event", "Lock", "Queue", "TaskGroup",
                 "CancelledError", "TimeoutError", "sleep_ms", "wait_for_ms"):
        assert name in ns, name
    _fresh()

    async def main():
        raise OSError(5)

    with raises(OSError):
        asyncio.run(main())


def test_streams_without_a_socket_module_raise_no_sockets():
    import shimeji.io.sockets as sockets
    from shimeji import NoSockets

    _fresh()
    saved = sockets.socket
    sockets.socket = None  # as on a port without networking (qemu, a Pico without W)
    try:

        async def connect():
            await asyncio.open_connection("127.0.0.1", 80)

        async def serve():
            await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)

        with raises(NoSockets, "connect()"):
            asyncio.run(connect())
        with raises(NoSockets, "listen()"):
            asyncio.run(serve())

        async def main():  # the loop keeps working afterwards
            await asyncio.sleep_ms(1)
            return "ok"

        assert asyncio.run(main()) == "ok"
    finally:
        sockets.socket = saved
