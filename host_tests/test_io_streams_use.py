# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# One stream's own use: a stream object that is not a socket (a pipe, an io.IOBase), the
# allocation-free write, a second reader refused with IOBusy, a cancelled readexactly then
# reading again, and MicroPython's legacy awrite/awritestr/aclose.
from iohelp import close, run_to_end, tcp_pair
from shimeji import IOBusy, Stream, sleep_ms
from support import IS_MICROPYTHON, alloc_delta, heap_locked, micropython_only


def _stream_object():
    """A non-socket stream and a function that feeds it bytes: a pipe on CPython; on
    MicroPython an ``io.IOBase`` stream with ``ioctl`` (the shape of a ``machine.UART``)."""
    if not IS_MICROPYTHON:
        import os

        class PipeReader:  # a user-made stream object over a pipe: fileno for poll
            def __init__(self, fd):
                self.fd = fd

            def fileno(self):
                return self.fd

            def read(self, n=-1):
                try:
                    return os.read(self.fd, 4096 if n < 0 else n)
                except BlockingIOError:
                    return None

            def readline(self):  # byte by byte, as MicroPython's streams do: no buffering
                line = b""
                while not line.endswith(b"\n"):
                    c = self.read(1)
                    if not c:
                        break
                    line += c
                return line if line else None

        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        p = PipeReader(rfd)
        return p, lambda data: os.write(wfd, data), lambda: (os.close(rfd), os.close(wfd))
    import io

    class FakeUart(io.IOBase):
        def __init__(self):
            self.rx = b""

        def read(self, n=-1):
            if not self.rx:
                return None
            n = len(self.rx) if n < 0 else n
            out, self.rx = self.rx[:n], self.rx[n:]
            return out

        def readline(self):
            if not self.rx:
                return None
            i = self.rx.find(b"\n")
            return self.read(len(self.rx) if i < 0 else i + 1)

        def readinto(self, buf):
            data = self.read(len(buf))
            if data is None:
                return None
            buf[: len(data)] = data
            return len(data)

        def write(self, buf):
            return len(buf)

        def ioctl(self, req, arg):
            if req == 3:  # MP_STREAM_POLL
                return arg & 1 if self.rx else 0
            # EINVAL for the rest: MP_STREAM_GET_FILENO answered 0 made the unix port's poll
            # watch fd 0 (stdin) in place of this object, and the test depend on stdin
            return -22

    u = FakeUart()

    def feed(data):
        u.rx += data

    return u, feed, lambda: None


def test_a_stream_object_that_is_not_a_socket():
    obj, feed, done = _stream_object()

    async def writer_later():
        for part in (b"AT+OK\r", b"\nREADY\n"):
            await sleep_ms(3)
            feed(part)

    async def main():
        from shimeji import core

        core.current_slot().sched.spawn(writer_later())
        r = Stream(obj)
        first = await r.readline()
        return [first, await r.readline()]

    assert run_to_end(main()) == [b"AT+OK\r\n", b"READY\n"]
    done()


class _TestStream:
    def __init__(self, blocked):
        self.blocked = blocked

    def write(self, data):
        return None if self.blocked else len(data)


def _writes(s, a, b):
    s.write(a)
    s.write(b)


@micropython_only
def test_write_allocates_nothing_when_sent_at_once_or_kept_as_is():
    sent = Stream(_TestStream(False))
    buf = bytearray(b"56")
    heap_locked(_writes, sent, b"34", buf)
    assert alloc_delta(_writes, sent, b"34", buf) == 0
    blocked = Stream(_TestStream(True))
    heap_locked(blocked.write, b"12")  # bytes kept as they are
    assert blocked.out_buf == b"12"
    a, b = tcp_pair()
    real = Stream(a)
    real.write(b"warm")
    heap_locked(_writes, real, b"ab", buf)
    assert alloc_delta(_writes, real, b"ab", buf) == 0 and real.out_buf == b""
    close(a, b)


def test_a_second_reader_gets_iobusy_and_the_first_read_is_untouched():
    # A Stream's reads share one awaitable (no coroutine per read): a second task reading
    # while the first waits gets IOBusy, and the first still reads exactly what it asked for.
    a, b = tcp_pair()
    r = Stream(b)
    events = []

    async def first():
        events.append(await r.readexactly(6))

    async def second():
        try:
            await r.read(2)
        except IOBusy as e:
            events.append("busy: " + str(e).split(":")[0])

    async def main():
        from shimeji import core

        spawn = core.current_slot().sched.spawn
        h1 = spawn(first())
        await sleep_ms(2)  # first waits for data
        try:
            r.read(2)  # the call itself refuses while the first waits
        except IOBusy:
            events.append("busy at the call")
        await spawn(second())
        a.write(b"abc")
        await sleep_ms(2)
        a.write(b"defg")
        await h1
        events.append(await r.read(10))  # the reader is free again: the rest
        return events

    assert run_to_end(main()) == ["busy at the call", "busy: task 2 (None) is reading this Stream",
                           b"abcdef", b"g"]
    close(a, b)


def test_cancelled_readexactly_then_reading_again():
    a, b = tcp_pair()
    r = Stream(b)

    async def reader():
        return await r.readexactly(4)

    async def main():
        from shimeji import core

        spawn = core.current_slot().sched.spawn
        h = spawn(reader())
        await sleep_ms(2)
        a.write(b"xy")  # half of it: the read keeps it and waits again
        await sleep_ms(5)
        h.cancel()
        await sleep_ms(1)
        a.write(b"1234")
        return h.is_cancelled(), await r.readexactly(4), await spawn(_read_into(r))

    async def _read_into(stream):
        buf = bytearray(8)
        a.write(b"z")
        n = await stream.readinto(buf)
        return bytes(buf[:n])

    assert run_to_end(main()) == (True, b"1234", b"z")
    close(a, b)


def test_micropythons_legacy_names_awrite_awritestr_and_aclose():
    # awrite(buf, off, sz) writes that slice and drains; awritestr the same with a str on
    # MicroPython (bytes here: a CPython socket takes bytes only); aclose closes and waits.
    a, b = tcp_pair()
    wa, rb = Stream(a), Stream(b)

    async def main():
        await wa.awrite(b"0123456789", 2, 3)
        await wa.awrite(b"ab")
        await wa.awritestr("cd" if IS_MICROPYTHON else b"cd")
        got = b""
        while len(got) < 7:
            got += await rb.read(7 - len(got))
        await wa.aclose()
        return got, wa.closed, await rb.read(10)

    assert run_to_end(main()) == (b"234abcd", True, b"")
    close(b)
