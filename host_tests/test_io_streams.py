# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# Streams over real loopback sockets (127.0.0.1, a free port): a server and clients, reads of
# every kind, partial writes and EAGAIN with small socket buffers, peer resets, closing. One
# stream's own use (a second reader, a cancelled read, the legacy names, the allocation-free
# write, a stream object that is not a socket): test_io_streams_use.py.
import socket

from iohelp import close, reset, run_to_end, tcp_pair
from shimeji import (
    Stream,
    StreamClosed,
    core,
    open_connection,
    sleep_ms,
    spawn,
    start_server,
    wait_readable,
)
from support import raises


def test_server_and_clients_exchange_lines():
    events = []

    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        events.append("peer " + ("yes" if peer else "no"))
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(b"echo " + line)
            await writer.drain()
        await writer.wait_closed()

    async def client(port, name):
        r, w = await open_connection("127.0.0.1", port)
        got = []
        for i in range(3):
            w.write(b"%s %d\n" % (name, i))
            await w.drain()
            got.append(await r.readline())
        w.close()
        await w.wait_closed()
        return got

    async def main():
        srv = await start_server(handle, "127.0.0.1", 0)
        assert srv.port > 0
        from shimeji import core

        spawn = core.current_slot().sched.spawn
        hs = [spawn(client(srv.port, n)) for n in (b"a", b"b")]
        out = []
        for h in hs:
            out.append(await h)
        srv.close()
        await srv.wait_closed()
        return out

    out = run_to_end(main())
    assert out == [[b"echo a 0\n", b"echo a 1\n", b"echo a 2\n"],
                   [b"echo b 0\n", b"echo b 1\n", b"echo b 2\n"]]
    assert events == ["peer yes", "peer yes"]


def test_read_kinds_to_the_end_of_the_stream():
    a, b = tcp_pair()

    async def main():
        w = Stream(a)
        r = Stream(b)
        w.write(b"0123456789abcdefXYZ")
        await w.drain()
        first = await r.readexactly(4)
        buf = bytearray(6)
        n = await r.readinto(buf)
        some = await r.read(6)
        w.close()
        rest = await r.read()  # to the end of the stream
        end = await r.read(10)
        with raises(EOFError):
            await r.readexactly(1)
        return first, bytes(buf[:n]), some, rest, end

    assert run_to_end(main()) == (b"0123", b"456789", b"abcdef", b"XYZ", b"")
    close(b)


def _small_buffers(*socks):
    from shimeji.io.sockets import raw_socket

    for s in socks:
        raw = raw_socket(s)
        raw.setsockopt(socket.SOL_SOCKET, 7, 4096)  # SO_SNDBUF (Linux)
        raw.setsockopt(socket.SOL_SOCKET, 8, 4096)  # SO_RCVBUF (Linux)


def test_partial_writes_and_eagain_are_buffered_and_drained():
    a, b = tcp_pair()
    _small_buffers(a, b)
    data = bytes(range(256)) * 1024  # 256 KiB: far more than the socket buffers hold
    events = []

    async def reader(r):
        got = bytearray()
        while len(got) < len(data):
            chunk = await r.read(8192)
            if not chunk:
                break
            got += chunk
        return got

    async def main():
        from shimeji import core

        w = Stream(a)
        w.write(data)
        events.append("kept %s" % ("some" if 0 < len(w.out_buf) <= len(data) else "none"))
        h = core.current_slot().sched.spawn(reader(Stream(b)))
        await w.drain()
        events.append("drained %d" % len(w.out_buf))
        got = await h
        events.append("intact" if got == data else "corrupt %d" % len(got))

    run_to_end(main())
    assert events == ["kept some", "drained 0", "intact"]
    close(a, b)


def test_peer_reset_surfaces_as_oserror_on_read_and_drain():
    a, b = tcp_pair()
    _small_buffers(b)

    async def main():
        r = Stream(b)
        reset(a)
        await sleep_ms(2)
        out = []
        try:
            await r.read(10)
            out.append("read returned")
        except OSError as e:
            out.append("read OSError %d" % e.args[0])
        # the read's wait ended with it (the op resets the slot's wait after the read, in a
        # finally): a wait on another object now waits for that object, it does not return
        me = core.current_slot()
        out.append((me.wait_phase, me.io_obj))
        c, d = tcp_pair()
        waiter = spawn(_read_one(d))
        await sleep_ms(2)
        out.append(waiter.is_complete())
        c.write(b"!")
        out.append(await waiter)
        close(c, d)
        try:
            for _ in range(20):
                r.write(b"x" * 4096)
                await r.drain()
            out.append("drain returned")
        except OSError:
            out.append("drain OSError")
        r.close()
        return out

    assert run_to_end(main()) == ["read OSError 104", (0, None), False, b"!", "drain OSError"]


async def _read_one(sock):
    await wait_readable(sock)
    return sock.read(1)


def test_close_wakes_a_reader_with_stream_closed_and_server_close_refuses_clients():
    a, b = tcp_pair()
    events = []

    async def reader(r):
        try:
            await r.read(10)
        except StreamClosed:
            events.append("reader: closed")

    async def handle(reader, writer):
        writer.close()

    async def main():
        from shimeji import core

        r = Stream(b)
        h = core.current_slot().sched.spawn(reader(r))
        await sleep_ms(2)
        r.close()
        await h
        with raises(StreamClosed):
            await r.read(1)
        async with await start_server(handle, "127.0.0.1", 0) as srv:
            port = srv.port
            events.append("serving")
        events.append("closed: %s" % srv.task.is_complete())
        try:
            rr, ww = await open_connection("127.0.0.1", port)
            await rr.read(1)  # MicroPython reports the refusal here
            events.append("connected?")
        except OSError:
            events.append("refused")

    run_to_end(main())
    assert events == ["reader: closed", "serving", "closed: True", "refused"]
    close(a)
