# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# Waiting for I/O allocates nothing in steady state (heap_lock AND a zero gc.mem_alloc delta):
# registering on an object seen before, the poller waking the task, the zero-timeout poll of
# the run loop and its idle in the poller; a Stream write + drain that sends everything.
from iohelp import close, tcp_pair
from shimeji import (
    RunLoop,
    StaticScheduler,
    Stream,
    Timer,
    wait_readable,
    wait_writable,
    yield_now,
)
from support import alloc_delta, heap_locked, micropython_only

_BYTE = b"x"


def _pingpong(a, s, p, rounds):
    # ``rounds`` times: a byte arrives, the poller wakes the reader, the reader reads it and
    # waits again. Loopback delivers at once, but give the kernel a few polls.
    for _ in range(rounds):
        a.write(_BYTE)
        for _ in range(100):
            if p.poll(0):
                break
        s.tick()


def _steps(loop, n):
    for _ in range(n):
        loop.step()


@micropython_only
def test_wait_readable_round_trip_allocates_nothing():
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    buf = bytearray(8)
    got = [0]

    async def reader():
        while True:
            await wait_readable(b)
            got[0] += b.readinto(buf)

    s.spawn(reader())
    s.tick()
    p = s.poller
    _pingpong(a, s, p, 3)  # warm up: the entry, the ipoll tuple
    heap_locked(_pingpong, a, s, p, 20)
    assert alloc_delta(_pingpong, a, s, p, 20) == 0
    assert got[0] == 43 and p.waiters == 1
    close(a, b)


@micropython_only
def test_run_loop_step_with_io_waiters_allocates_nothing():
    s = StaticScheduler(4, timer=Timer())
    loop = RunLoop(s)
    a, b = tcp_pair()
    counts = [0, 0]

    async def writer():
        while True:
            await wait_writable(a)  # always writable: woken by the zero poll or the idle
            counts[0] += 1

    async def idle_reader():
        while True:
            await wait_readable(b)  # never ready
            counts[1] += 1

    s.spawn(writer())
    s.spawn(idle_reader())
    _steps(loop, 5)
    heap_locked(_steps, loop, 50)
    assert alloc_delta(_steps, loop, 50) == 0
    assert counts[0] >= 100 and counts[1] == 0
    close(a, b)


def _write_rounds(s, b, buf, rounds):
    for _ in range(rounds):
        s.tick()
        b.readinto(buf)  # keep the socket's buffer from filling


@micropython_only
def test_stream_write_and_drain_that_sends_everything_allocate_nothing():
    # Stream.write hands everything to the socket and drain() has nothing to wait for: it
    # lets the other tasks run once (the writer goes back in the run queue) and costs no
    # coroutine.
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    w = Stream(a)
    buf = bytearray(64)
    counts = [0, 0]

    async def writer():
        while True:
            w.write(_BYTE)
            await w.drain()
            counts[0] += 1

    async def other():
        while True:
            await yield_now()
            counts[1] += 1

    s.spawn(writer())
    s.spawn(other())
    _write_rounds(s, b, buf, 3)
    heap_locked(_write_rounds, s, b, buf, 20)
    assert alloc_delta(_write_rounds, s, b, buf, 20) == 0
    assert counts[0] == counts[1] >= 43 and w.out_buf == b""
    close(a, b)


def _echo_rounds(s, a, rounds):
    for _ in range(rounds):
        a.write(_BYTE)
        for _ in range(100):
            s.tick()
            if s.poller.poll(0) == 0 and not s.policy.has_ready():
                break


@micropython_only
def test_stream_readinto_round_trip_allocates_nothing():
    # Stream.readinto (like read and readexactly) is one reused awaitable per stream, not a
    # coroutine per call: into a buffer of the caller's, a read allocates nothing at all.
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    r = Stream(b)
    buf = bytearray(8)
    got = [0]

    async def reader():
        while True:
            got[0] += await r.readinto(buf)

    s.spawn(reader())
    _echo_rounds(s, a, 3)
    heap_locked(_echo_rounds, s, a, 20)
    assert alloc_delta(_echo_rounds, s, a, 20) == 0
    assert got[0] == 43 and bytes(buf[:1]) == _BYTE
    close(a, b)
