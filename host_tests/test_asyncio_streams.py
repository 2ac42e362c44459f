# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# The facade's streams over loopback (port 0): an asyncio echo server and clients, the server
# and connection tasks are asyncio Tasks, and cancelling a task that waits in wait_closed()
# closes the server (its port can be bound again).
import shimeji.asyncio as asyncio


def test_echo_server_and_clients_over_loopback():
    asyncio.new_event_loop()
    log = []

    async def handle(reader, writer):
        log.append(type(asyncio.current_task()).__name__)
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def client(port, word):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        got = []
        for i in range(3):
            writer.write(b"%s %d\n" % (word, i))
            await writer.drain()
            got.append(await reader.readline())
        writer.close()
        await writer.wait_closed()
        return got

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        assert isinstance(server.task, asyncio.Task)
        got = await asyncio.gather(client(server.port, b"a"), client(server.port, b"b"))
        server.close()
        await server.wait_closed()
        return got

    assert asyncio.run(main()) == [[b"A 0\n", b"A 1\n", b"A 2\n"], [b"B 0\n", b"B 1\n", b"B 2\n"]]
    assert log == ["Task", "Task"]


def test_cancelling_a_task_in_wait_closed_closes_the_server():
    asyncio.new_event_loop()

    async def serve_forever(ports):
        srv = await asyncio.start_server(None, "127.0.0.1", 0)
        ports.append(srv.port)
        await srv.wait_closed()

    async def main():
        ports = []
        t = asyncio.create_task(serve_forever(ports))
        while not ports:  # until the server listens (no wall-clock bound)
            await asyncio.sleep_ms(1)
        await asyncio.sleep(0)  # and the task waits in wait_closed()
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            pass
        again = await asyncio.start_server(None, "127.0.0.1", ports[0])  # the port is free
        again.close()
        await again.wait_closed()
        return t.done(), t.cancelled()

    assert asyncio.run(main()) == (True, True)


def test_reads_work_through_wait_for_create_task_and_gather():
    # A Stream's read/readexactly/readinto return a reused awaitable, not a coroutine: the
    # asyncio idioms that take a coroutine still work with them (wait_for with a timeout that
    # expires and one that does not, create_task, gather).
    asyncio.new_event_loop()

    async def handle(reader, writer):
        await asyncio.sleep_ms(30)  # the client's first wait_for times out meanwhile
        writer.write(b"hello world!")
        await writer.drain()
        await reader.read(1)  # until the client closes
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        out = []
        try:
            await asyncio.wait_for(reader.read(5), 0.005)
        except asyncio.TimeoutError:
            out.append("timeout")
        out.append(await asyncio.wait_for(reader.readexactly(5), 1))
        t = asyncio.create_task(reader.readexactly(1))
        out.append(await t)
        buf = bytearray(6)
        out.extend(await asyncio.gather(reader.readinto(buf)))
        out.append(bytes(buf))
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return out

    assert asyncio.run(main()) == ["timeout", b"hello", b" ", 6, b"world!"]


def test_serve_forever_is_serving_and_sockets_as_in_cpython():
    # A CPython server program: async with server: await server.serve_forever(), the task
    # cancelled to stop it; sockets[0].getsockname() for a port-0 server (CPython only:
    # MicroPython's sockets have no getsockname, server.port works on both).
    from shimeji import port as shimeji_port

    asyncio.new_event_loop()

    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        out = [server.is_serving(), len(server.sockets)]
        if not shimeji_port.IS_MICROPYTHON:
            out.append(server.sockets[0].getsockname()[1] == server.port)

        async def run_server():
            async with server:
                await server.serve_forever()

        st = asyncio.create_task(run_server())
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(b"hi\n")
        await w.drain()
        out.append(await r.readline())
        w.close()
        await w.wait_closed()
        st.cancel()
        try:
            await st
        except asyncio.CancelledError:
            out.append("stopped")
        out += [server.is_serving(), len(server.sockets)]
        return out

    expected = [True, 1, b"hi\n", "stopped", False, 0]
    if not shimeji_port.IS_MICROPYTHON:
        expected.insert(2, True)
    assert asyncio.run(main()) == expected
