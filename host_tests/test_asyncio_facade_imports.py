# shimeji.asyncio: the whole facade imported at once (``from shimeji.asyncio import *``) and
# its streams on a port without sockets, on both runtimes. Apart from test_asyncio_facade.py:
# importing every module of the facade (and shimeji.io) takes ~9 KB of a 32-bit heap for good,
# which the loop tests there need on an STM32L475 (~87 KB after boot).
import gc

import shimeji.asyncio as asyncio
from shimeji import _lazy
from support import _Skipped, raises


def _all_at_once_does_not_fit():
    """Why not here: every module of the package loaded at once, where shimeji's code goes
    into a heap under 1 MB (``.mpy`` files in /lib, not frozen: the RP2040's 241 KB, where
    the facade with every name takes ~216 KB; docs/boards.md, "RP2040 / qemu / STM32,
    session 14"). None where it fits (frozen code, CPython, the unix port)."""
    if not hasattr(gc, "mem_free") or not _lazy._COLLECT:  # (frozen: its code is in flash)
        return None
    gc.collect()
    heap = gc.mem_free() + gc.mem_alloc()
    if heap >= 1 << 20:
        return None
    return ("every module of shimeji at once, with its code in this %d B heap (not frozen), "
            "does not fit: a program that needs all of it on such a board freezes shimeji"
            % heap)


def _all_at_once(fn):
    why = _all_at_once_does_not_fit()
    return fn if why is None else _Skipped(fn, why)


def _fresh():
    asyncio.set_event_loop(None)  # the old loop goes first (see test_asyncio_facade._fresh)
    gc.collect()
    return asyncio.new_event_loop()


@_all_at_once
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
