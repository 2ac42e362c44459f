# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# The sub-ms rest of an idle while tasks wait for I/O: a poll's timeout is in ms, so the last
# part of a wait before a timer deadline is idled in slices of at most ``rest_slice_us`` (50 µs
# where there is a wake socket, hosted ports; None, one idle, on boards),
# polling between (io/dispatch.py ``rest``): bytes arriving then wake their reader within a
# slice, not at the deadline; the sleeper still wakes at its µs deadline; allocation-free.
# Time is a FakeClock that the idle primitive advances: no wall-clock assertion.
import select

from iohelp import close, tcp_pair
from shimeji import FakeClock, RunLoop, StaticScheduler, Timer, sleep_us, wait_readable
from support import alloc_delta, heap_locked, micropython_only


def _until_readable(b):
    # loopback delivers at once, but give the kernel a few polls (bounded)
    p = select.poll()
    p.register(b, select.POLLIN)
    for _ in range(1000):
        if p.poll(1):
            break


def _scene():
    # A reader waiting for a byte that arrives during the first idle call, and a sleeper due
    # at 700 µs: the loop's only idle is the sub-ms rest (700 µs: poll(0), then the rest).
    clock = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock=clock, tick_us=10, slack_us=0))
    a, b = tcp_pair()
    calls = []
    events = []

    def idle(us):
        calls.append(us)
        if len(calls) == 1:
            a.write(b"x")
            _until_readable(b)
        clock.advance_us(us)

    async def reader():
        await wait_readable(b)
        events.append(("read", clock(), b.read(1)))

    async def sleeper():
        await sleep_us(700)
        events.append(("slept", clock()))

    loop = RunLoop(s, idle=idle)
    hr = s.spawn(reader())
    hs = s.spawn(sleeper())
    return s, loop, hr, hs, a, b, calls, events


def test_bytes_arriving_in_the_sub_ms_rest_wake_their_reader_within_a_slice():
    s, loop, hr, hs, a, b, calls, events = _scene()
    s.tick()  # the reader registers: its poller exists now
    assert s.poller.rest_slice_us == 50  # the default where there is a wake socket
    s.poller.rest_slice_us = 100
    loop.run(hr)
    assert events == [("read", 100, b"x")]  # after the first slice, the sleeper still asleep
    loop.run(hs)
    assert events == [("read", 100, b"x"), ("slept", 700)]
    # the rest was sliced while the reader waited; then nobody waits for I/O: one idle
    assert calls == [100, 600]
    close(a, b)


def test_the_rest_in_one_blind_idle_when_rest_slice_us_is_none():
    s, loop, hr, hs, a, b, calls, events = _scene()
    s.tick()  # the reader registers: its poller exists now
    s.poller.rest_slice_us = None
    loop.run(hr)
    assert calls == [700]  # one idle: the byte waited until the deadline
    assert events == [("slept", 700), ("read", 700, b"x")]
    close(a, b)


def test_a_rest_ending_uneven_slices_at_the_deadline():
    # slices of 300 µs: 300, 300, then the 100 left (never past the deadline)
    clock = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock=clock, tick_us=10, slack_us=0))
    a, b = tcp_pair()
    calls = []

    def idle(us):
        calls.append(us)
        clock.advance_us(us)

    async def reader():
        await wait_readable(b)  # never ready

    async def sleeper():
        await sleep_us(700)
        return clock()

    s.spawn(reader())
    h = s.spawn(sleeper())
    s.tick()
    s.poller.rest_slice_us = 300
    assert RunLoop(s, idle=idle).run(h) == 700
    assert calls == [300, 300, 100]
    close(a, b)


def test_no_wake_socket_no_slices():
    # boards: no wake socket, and a zero poll costs tens of µs there: one idle, as before
    from shimeji.io.poller import IOPoller

    s = StaticScheduler(4, timer=Timer())
    assert IOPoller(s, wake_socket=False).rest_slice_us is None


def _steps(loop, n):
    for _ in range(n):
        loop.step()


@micropython_only
def test_the_rest_in_slices_allocates_nothing():
    clock = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock=clock, tick_us=10, slack_us=0))
    a, b = tcp_pair()
    n = [0]

    def idle(us):
        clock.advance_us(us)

    async def reader():
        await wait_readable(b)  # never ready

    async def sleeper():
        while True:
            await sleep_us(700)  # every idle is a sub-ms rest, in 7 slices
            n[0] += 1

    s.spawn(reader())
    s.spawn(sleeper())
    loop = RunLoop(s, idle=idle)
    _steps(loop, 6)
    heap_locked(_steps, loop, 40)
    assert alloc_delta(_steps, loop, 40) == 0
    assert n[0] >= 20 and clock() >= 20 * 700
    close(a, b)
