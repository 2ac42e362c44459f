# shimeji: host-only (loopback sockets and a second thread: a board without networking has neither)
# The run loop's idle in the poller while tasks wait for I/O: data or a wake from another
# thread ends a long idle (through the wake socket), run_until_complete polls I/O too, an idle
# without a wake socket is sliced, stop() from another thread ends it, and fifty silent sockets
# idle in poll, not spin. (Going to sleep inside the section: test_io_doze.py.)
import _thread
import time

from gate import Gate
from iohelp import close, loop_with_timer, send_all, tcp_pair
from shimeji import RunLoop, StaticScheduler, Timer, poller_for, sleep_ms, wait_readable, yield_now


def _write_later(sock, data, delay_ms):
    time.sleep_ms(delay_ms) if hasattr(time, "sleep_ms") else time.sleep(delay_ms / 1000)
    send_all(sock, data)


def _open_later(gate, delay_ms):
    time.sleep_ms(delay_ms) if hasattr(time, "sleep_ms") else time.sleep(delay_ms / 1000)
    gate.open()


def test_data_from_another_thread_ends_a_long_idle():
    s, loop = loop_with_timer()
    a, b = tcp_pair()

    async def reader():
        await wait_readable(b)
        return b.read(10)

    h = s.spawn(reader())
    _thread.start_new_thread(_write_later, (a, b"threaded", 20))
    assert loop.run(h) == b"threaded"
    # No timer and nothing runnable: the loop slept in the poller until the data came,
    # in a few idles (a 1 s cap each), not a thousand 1 ms slices.
    assert loop.idles <= 3
    close(a, b)


def test_a_thread_wake_ends_the_idle_through_the_wake_socket():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    gate = Gate()
    events = []

    async def io_waiter():
        await wait_readable(b)

    async def gated():
        await gate
        events.append("gate opened")

    s.spawn(io_waiter())
    h = s.spawn(gated())
    s.tick()
    p = poller_for(s)
    assert p.max_idle_us is not None and s.idle_notify is not None
    _thread.start_new_thread(_open_later, (gate, 20))
    loop.run(h)
    assert events == ["gate opened"]
    assert p.wakeups >= 1 and loop.idles <= 3
    s.close()
    assert p.waiters == 0
    p.close()
    assert s.poller is None and s.idle_notify is None
    close(a, b)


def test_run_until_complete_polls_io_too():
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()

    async def main():
        async def later():
            await sleep_ms(3)
            send_all(a, b"ruc")

        s.spawn(later())
        await yield_now()
        await wait_readable(b)
        return b.read(3)

    assert s.run_until_complete(main()) == b"ruc"
    close(a, b)


def test_without_a_wake_socket_the_idle_in_poll_is_sliced():
    from shimeji import IOPoller

    s = StaticScheduler(4, timer=Timer())
    s.poller = IOPoller(s, wake_socket=False)  # as on a board
    loop = RunLoop(s, max_idle_us=None)  # tickless: no bound of its own
    a, b = tcp_pair()

    async def waiter():
        await wait_readable(b)
        return b.read(3)

    h = s.spawn(waiter())
    s.tick()
    assert s.poller.max_idle_us is None and s.idle_notify is None
    assert loop.idle_window() == 1000  # poller.slice_us: an interrupt's wake is seen soon
    send_all(a, b"abc")
    assert loop.run(h) == b"abc"
    s2, loop2 = loop_with_timer()  # with a wake socket, one idle may last up to a second
    h2 = s2.spawn(waiter())
    s2.tick()
    assert loop2.idle_window() == 1000000
    h2.cancel()
    s2.tick()
    close(a, b)


def _stop_later(loop, delay_ms):
    time.sleep_ms(delay_ms) if hasattr(time, "sleep_ms") else time.sleep(delay_ms / 1000)
    loop.stop()


def test_stop_from_another_thread_ends_an_idle_in_poll():
    s, loop = loop_with_timer()
    a, b = tcp_pair()

    async def forever():
        await wait_readable(b)

    h = s.spawn(forever())
    _thread.start_new_thread(_stop_later, (loop, 20))
    assert loop.run() is None
    assert not h.is_complete() and loop.idles <= 3 and s.poller.wakeups >= 1
    h.cancel()
    s.tick()
    assert s.poller.waiters == 0
    close(a, b)


def test_fifty_silent_sockets_and_one_sleep_idle_in_poll_not_spin():
    # Issue 13's idle goal in counts, not time: 50 tasks wait to read 50 open, silent sockets
    # while one sleeps 200 ms; the loop idles in poll until that deadline (a few idles, not one
    # per ms), and no reader is woken.
    s = StaticScheduler(56, timer=Timer())
    loop = RunLoop(s)
    pairs = [tcp_pair() for _ in range(50)]
    woken = []

    async def silent(sock):
        await wait_readable(sock)
        woken.append(sock)

    async def sleeper():
        await sleep_ms(200)
        return "slept"

    for _, b in pairs:
        s.spawn(silent(b))
    assert loop.run(s.spawn(sleeper())) == "slept"
    assert woken == [] and s.poller.waiters == 50
    assert 1 <= loop.idles <= 5, loop.idles  # (a loop that spun would idle ~200 times)
    s.close()
    assert s.poller.waiters == 0
    for a, b in pairs:
        close(a, b)
