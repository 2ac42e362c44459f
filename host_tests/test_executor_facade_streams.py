# shimeji: host-only (loopback sockets and worker threads: a board without networking has neither)
"""The asyncio facade's streams on an executor's worker (issue 14, session 21): a worker's
task opens a connection (``asyncio.open_connection``) to a server the loop started
(``asyncio.start_server``) and talks to it through ``Stream``s, served by its own worker's
poller; the facade's ``start_server`` on a worker raises ``WrongThread`` before it listens
(its server and connection tasks are the loop's), naming ``shimeji.io.start_server``, which
works there. Until session 21 the facade's ``start_server`` on a worker listened, then failed
in ``create_task``, leaving its socket open."""

import shimeji.asyncio as asyncio
import shimeji.io as sio
from facadehelp import fresh_loop
from shimeji import Executor, WrongThread, core, timeout
from support import Bound, needs_extra_threads


def _executor():
    ex = Executor(workers=2, capacity=8)  # worker 0 is left unrun; worker 1 on its thread
    ex.start()
    return ex


def _stop(ex):
    ex.close()
    ex.join()
    assert not ex.errors, ex.errors
    assert not core._threads


async def _until(pred, what, seconds=30):
    bound = Bound(seconds)
    while not pred():
        if bound.passed():
            raise AssertionError("waited %d s for %s" % (seconds, what))
        await asyncio.sleep_ms(1)


async def _echo(reader, writer):
    line = await reader.readline()
    writer.write(b"echo " + line)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _talk(port, text):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text)
    await writer.drain()
    got = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return got


async def _bounded_talk(port, text):
    return await timeout(_talk(port, text), 10000)


@needs_extra_threads(1)
def test_a_worker_task_talks_to_a_server_the_loop_started():
    ex = _executor()

    async def main():
        srv = await asyncio.start_server(_echo, "127.0.0.1", 0)
        handles = [ex.workers[1].spawn(_bounded_talk(srv.port, b"%d\n" % i))
                   for i in range(3)]
        await _until(lambda: all(h.is_complete() for h in handles), "the worker's talks")
        srv.close()
        await srv.wait_closed()
        return [h.result() for h in handles]

    try:
        fresh_loop()
        assert asyncio.run(main()) == [b"echo 0\n", b"echo 1\n", b"echo 2\n"]
    finally:
        _stop(ex)


@needs_extra_threads(1)
def test_the_facades_start_server_is_refused_on_a_worker_before_it_listens():
    ex = _executor()
    out = {}

    async def on_worker():
        try:
            await asyncio.start_server(_echo, "127.0.0.1", 0)
        except WrongThread as e:
            out["refused"] = str(e)
        srv = await sio.start_server(_echo, "127.0.0.1", 0)  # what the message names
        out["talk"] = await timeout(_talk(srv.port, b"w\n"), 10000)
        srv.close()
        await srv.wait_closed()

    async def main():
        h = ex.workers[1].spawn(on_worker())
        await _until(h.is_complete, "the worker's task")
        return h.result()

    try:
        fresh_loop()
        assert asyncio.run(main()) is None
    finally:
        _stop(ex)
    assert "start_server()" in out["refused"] and "shimeji.io.start_server" in out["refused"]
    assert out["talk"] == b"echo w\n", out
