# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# Misuse of the I/O API, table-driven: each wrong call raises a ShimejiError subclass whose
# message names the argument and what to do, and afterwards the same stream, poller or server
# still works and nothing written is lost. Stream's own argument errors are the built-in ones
# MicroPython's asyncio streams raise (TypeError, OSError after close; ValueError for
# readexactly(-1), as CPython's): shimeji.asyncio hands out this class, and MicroPython's
# asyncio test suite (tools/asyncio_suite.py) checks readinto(5) raises TypeError.
from iohelp import close, send_all, tcp_pair
from shimeji import (
    BadArgument,
    InterruptScheduler,
    IOBusy,
    NoCurrentTask,
    NotACoroutine,
    NotPollable,
    RunLoop,
    ShimejiError,
    StaticScheduler,
    Stream,
    StreamClosed,
    Timer,
    WrongLevel,
    open_connection,
    start_server,
    wait_readable,
    yield_now,
)
from support import raises


def run(main, capacity=16):
    s = StaticScheduler(capacity, timer=Timer())
    h = s.spawn(main)
    RunLoop(s).run(h)
    return h.result(), s


class _NoFileno:
    pass


def test_waiting_on_what_poll_cannot_watch_then_on_a_socket():
    a, b = tcp_pair()
    dead, peer = tcp_pair()
    close(dead, peer)
    cases = ((None, NotPollable, "got None: pass the socket"),
             ("abc", NotPollable, "select.poll cannot watch"),
             (_NoFileno(), NotPollable, "wait on a socket, stream, UART"),
             (-1, StreamClosed, "it is closed"),
             (dead, StreamClosed, "it is closed"))
    got = []

    async def main():
        for obj, exc, words in cases:
            with raises(exc, words):
                await wait_readable(obj)
            got.append(exc.__name__)
        send_all(b, b"after")
        await wait_readable(a)  # the same task waits on a good object afterwards
        return a.read(16)

    try:
        r, s = run(main())
        assert r == b"after"
        assert got == ["NotPollable", "NotPollable", "NotPollable", "StreamClosed",
                       "StreamClosed"]
        assert s.poller.waiters == 0  # no refused wait left a registration behind
    finally:
        close(a, b)


def test_files_and_in_memory_streams_then_the_same_loop_goes_on():
    # MicroPython: an io.BytesIO registers with select.poll and fails only when polled
    # (EINVAL), which ended the run loop itself; a closed file raised ValueError.
    import io

    a, b = tcp_pair()
    f = open(__file__, "rb")
    closed = open(__file__, "rb")
    closed.close()
    got = []

    async def main():
        for obj, exc, words in ((io.BytesIO(b"x"), NotPollable, "select.poll cannot watch"),
                                (io.StringIO("x"), NotPollable, "wait on a socket, stream"),
                                (closed, StreamClosed, "it is closed")):
            with raises(exc, words):
                await wait_readable(obj)
            got.append(exc.__name__)
        await wait_readable(f)  # a regular file is always ready
        got.append(f.read(2))
        send_all(b, b"go")
        await wait_readable(a)  # the run loop still polls
        return a.read(4)

    try:
        assert run(main())[0] == b"go"
        assert got == ["NotPollable", "NotPollable", "StreamClosed", b"# "]
    finally:
        f.close()
        close(a, b)


def test_waiting_outside_a_task_and_twice_in_one_direction():
    with raises(NoCurrentTask, "inside a task"):
        wait_readable(0)
    a, b = tcp_pair()
    events = []

    async def first():
        await wait_readable(a)
        events.append(("first", a.read(16)))

    async def second():
        with raises(IOBusy, "one task per object and direction") as r:
            await wait_readable(a)
        events.append(("second", "IOBusy"))
        assert issubclass(type(r.value), ShimejiError)
        send_all(b, b"data")

    async def main():
        h1 = s.spawn(first())
        await yield_now()
        h2 = s.spawn(second())
        await h2
        await h1

    s = StaticScheduler(4, timer=Timer())
    try:
        h = s.spawn(main())
        RunLoop(s).run(h)
        h.result()
        assert events == [("second", "IOBusy"), ("first", b"data")]  # the first wake kept
    finally:
        close(a, b)


def test_an_interrupt_level_task_cannot_wait_for_io_and_goes_on():
    # (it used to wait for ever: no run loop polls I/O at the interrupt level)
    a, b = tcp_pair()
    isr = InterruptScheduler(4)

    async def at_interrupt_level():
        with raises(WrongLevel, "an interrupt-level task cannot wait for I/O"):
            await wait_readable(a)
        with raises(WrongLevel, "wait in a thread-level task"):
            await Stream(a).read(1)
        return "went on"

    async def thread_level():
        await wait_readable(a)
        return a.read(8)

    try:
        assert isr.run_until_complete(at_interrupt_level()) == "went on"
        send_all(b, b"ok")
        assert run(thread_level())[0] == b"ok"  # the socket was left unclaimed
    finally:
        close(a, b)


def test_stream_calls_with_bad_arguments_lose_nothing():
    a, b = tcp_pair()
    st = Stream(a)
    bad = (("read", None, TypeError, "Stream.read(n): n must be an int"),
           ("read", 1.5, TypeError, "Stream.read(n): n must be an int"),
           ("read", "x", TypeError, "Stream.read(n)"),
           ("readexactly", -1, ValueError, "n must be at least 0, got -1"),
           ("readexactly", 2.0, TypeError, "Stream.readexactly(n)"),
           ("readinto", None, TypeError, "Stream.readinto(buf): buf must be a writable buffer"),
           ("readinto", 5, TypeError, "a bytearray"),
           ("readinto", b"ro", TypeError, "a bytearray"),
           ("write", None, TypeError, "Stream.write(buf): give bytes"))
    seen = []

    with raises(TypeError, "Stream(s): give the socket or stream object to wrap, got None"):
        Stream(None)

    async def main():
        send_all(b, b"hello")
        for method, arg, exc, words in bad:
            with raises(exc, words):
                r = getattr(st, method)(arg)
                if r is not None:
                    await r
            seen.append(method)
        assert await st.readexactly(0) == b""  # at once, as MicroPython's asyncio
        st.write(b"out")  # the stream still writes and reads: nothing was consumed
        await st.drain()
        return await st.readexactly(5)

    try:
        r, _ = run(main())
        assert r == b"hello"
        assert seen == [b[0] for b in bad]
        assert b.read(16) == b"out"
    finally:
        st.close()
        close(b)


def test_a_closed_stream_refuses_reads_and_writes_and_closes_twice():
    a, b = tcp_pair()
    st = Stream(a)
    out = []

    async def main():
        st.close()
        st.close()  # a second close is a no-op
        with raises(OSError):  # as MicroPython's asyncio (its test asyncio_tcp_close_write)
            st.write(b"x")
        for call in (lambda: st.read(1), lambda: st.readline(), lambda: st.readexactly(2)):
            with raises(StreamClosed, "closed"):
                await call()
            out.append("refused")
        await st.wait_closed()
        return out

    try:
        assert run(main())[0] == ["refused"] * 3
    finally:
        close(b)


async def _echo(reader, writer):
    writer.write(await reader.read(16))
    await writer.drain()
    writer.close()


def test_server_and_connection_arguments_then_a_working_echo():
    bad_servers = (((None, "127.0.0.1", 0), "cb must be an async def function"),
                   ((_echo, None, 0), "host must be a str"),
                   ((_echo, "127.0.0.1", -1), "port must be an int from 0 to 65535"),
                   ((_echo, "127.0.0.1", 70000), "got 70000"),
                   ((_echo, "127.0.0.1", "80"), "port must be an int"))
    bad_clients = ((("127.0.0.1", 0), "port must be an int from 1 to 65535"),
                   ((None, 80), "host must be a str"),
                   (("127.0.0.1", 2.5), "got 2.5"))
    refused = []

    async def main():
        for args, words in bad_servers:
            with raises(BadArgument, "start_server") as r:
                await start_server(*args)
            assert words in str(r.value), r.value
            refused.append("server")
        with raises(BadArgument, "backlog=-1"):
            await start_server(_echo, "127.0.0.1", 0, -1)
        for args, words in bad_clients:
            with raises(BadArgument, "open_connection") as r:
                await open_connection(*args)
            assert words in str(r.value), r.value
            refused.append("client")
        srv = await start_server(_echo, "127.0.0.1", 0)
        r, w = await open_connection("127.0.0.1", srv.port)
        w.write(b"ping")
        await w.drain()
        got = await r.read(16)
        w.close()
        srv.close()
        await srv.wait_closed()
        srv.close()  # closing again is a no-op
        await srv.wait_closed()
        return got

    got, _ = run(main())
    assert got == b"ping"
    assert refused == ["server"] * 5 + ["client"] * 3


def test_a_callback_that_is_not_async_ends_the_server_clearly():
    def plain(reader, writer):  # forgot async: returns None
        return None

    async def main():
        srv = await start_server(plain, "127.0.0.1", 0)
        r, w = await open_connection("127.0.0.1", srv.port)
        with raises(NotACoroutine, "make cb an async def function"):
            await srv.wait_closed()
        got = await r.read(16)  # the connection was closed, not left hanging
        w.close()
        srv2 = await start_server(_echo, "127.0.0.1", 0)  # the scheduler still serves
        r, w = await open_connection("127.0.0.1", srv2.port)
        w.write(b"again")
        await w.drain()
        again = await r.read(16)
        w.close()
        srv2.close()
        await srv2.wait_closed()
        return got, again

    assert run(main())[0] == (b"", b"again")
