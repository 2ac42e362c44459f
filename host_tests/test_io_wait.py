# shimeji: host-only (loopback sockets: a board without networking has none)
# wait_readable / wait_writable over real loopback sockets, in the run loop: readiness, errors
# and hang-ups, closing, cancellation, two waiters, timeouts. The loop's idle in the poller:
# test_io_wait_idle.py.
from iohelp import (
    close,
    hung_up_reader,
    hung_up_writer,
    loop_with_timer,
    reset,
    send_all,
    tcp_pair,
)
from shimeji import (
    IOBusy,
    IOFailed,
    NoCurrentTask,
    NotPollable,
    StreamClosed,
    Timeout,
    Trace,
    sleep_ms,
    timeout,
    wait_readable,
    wait_writable,
)
from shimeji.io.poller import POLLIN
from shimeji.trace import kinds as K
from support import raises


def finish(loop, h):
    """Run the loop until ``h`` completes, whatever its outcome."""
    try:
        loop.run(h)
    except Exception:
        pass
    return h


def outcome(h):
    try:
        return h.result()
    except Exception as e:  # the whole outcome is compared, errors included
        return type(e).__name__


def test_data_wakes_the_reader_and_the_wait_is_unregistered():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    events = []

    async def reader():
        for _ in range(3):
            await wait_readable(b)
            events.append(b.read(100))

    async def writer():
        for chunk in (b"one", b"two", b"three"):
            await sleep_ms(5)
            await wait_writable(a)
            send_all(a, chunk)
            events.append("sent " + chunk.decode())

    s.spawn(writer())
    h = s.spawn(reader())
    loop.run(h)
    assert events == ["sent one", b"one", "sent two", b"two", "sent three", b"three"]
    p = s.poller
    assert p.waiters == 0
    # Both stay registered (the next wait allocates nothing). A direction stays armed after
    # its wake (a wait that follows costs no poll.modify) until a poll reports it ready with
    # nobody waiting: ``a`` (writable at once) was switched off by the poll that woke the
    # reader; ``b`` only will be when data arrives.
    assert {e.obj: e.mask for e in p._entries.values()} == {a: 0, b: POLLIN}
    send_all(a, b"late")
    for _ in range(100):
        p.poll(0)
        if p._entries and all(e.mask == 0 for e in p._entries.values()):
            break
    assert {e.obj: e.mask for e in p._entries.values()} == {a: 0, b: 0}
    close(a, b)


def test_a_traced_scheduler_records_io_ready_with_the_events_before_the_wake():
    s, loop = loop_with_timer()
    trace = Trace(256, side=32).attach(s)
    a, b = tcp_pair()

    async def reader():
        await wait_readable(b)
        return b.read(100)

    async def writer():
        await sleep_ms(5)
        send_all(a, b"ping")

    s.spawn(writer())
    h = s.spawn(reader())
    assert loop.run(h) == b"ping"
    mine = [(r[1], r[3]) for r in trace.records() if r[2] == h.id and r[1] in (
        K.IO_READY, K.WAKE_TASK, K.WAKE_EXTERNAL, K.WAKE_TIMER, K.PARK)]
    assert [k for k, _ in mine] == [K.PARK, K.IO_READY, K.WAKE_EXTERNAL]
    assert mine[1][1] & POLLIN
    close(a, b)


def test_end_of_stream_is_readable_and_read_returns_empty():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    send_all(a, b"last words")
    close(a)

    async def reader():
        got = []
        while True:
            await wait_readable(b)
            data = b.read(100)
            got.append(data)
            if not data:
                return got

    assert loop.run(s.spawn(reader())) == [b"last words", b""]
    close(b)


def test_peer_reset_raises_iofailed_for_reader_and_writer():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    reset(a)

    async def wait(fn):
        await fn(b)
        return "ready"

    hr = s.spawn(wait(wait_readable))
    hw = s.spawn(wait(wait_writable))
    finish(loop, hr)
    finish(loop, hw)
    assert (outcome(hr), outcome(hw)) == ("IOFailed", "IOFailed")
    with raises(IOFailed, "POLLERR"):
        hr.result()
    with raises(OSError):  # the socket itself gives the errno
        b.read(10)
    assert s.poller.waiters == 0
    close(b)


def test_a_hang_up_gives_the_data_left_then_iofailed_and_fails_a_write_wait():
    # POLLHUP: a read wait returns while data is left (the read gets it), and once nothing is
    # left raises IOFailed; a write wait raises IOFailed at once. The loop goes on after.
    s, loop = loop_with_timer()
    r, close_r = hung_up_reader(b"bye")
    w, close_w = hung_up_writer()

    async def reader():
        got = []
        await wait_readable(r)
        got.append(r.read(10))
        try:
            await wait_readable(r)
        except IOFailed as e:
            got.append(str(e))
        return got

    async def writer():
        await wait_writable(w)

    got = loop.run(s.spawn(reader()))
    assert got[0] == b"bye"
    assert "hung up (POLLHUP)" in got[1] and "close it" in got[1], got
    hw = finish(loop, s.spawn(writer()))
    assert outcome(hw) == "IOFailed"
    with raises(IOFailed, "hung up (POLLHUP)"):
        hw.result()
    assert s.poller.waiters == 0
    s.poller.forget(r)
    s.poller.forget(w)
    close_r()
    close_w()

    async def after():
        await sleep_ms(1)
        return "goes on"

    assert loop.run(s.spawn(after())) == "goes on"


def test_closed_objects_and_forget_raise_stream_closed():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    events = []

    async def waits_then_forgotten():
        try:
            await wait_readable(b)
        except StreamClosed as e:
            events.append("closed: " + str(e).split(" was ")[1])

    async def closer():
        await sleep_ms(2)
        s.poller.forget(b)
        close(b)

    s.spawn(closer())
    loop.run(s.spawn(waits_then_forgotten()))
    assert events == ["closed: closed while a task waited for it"]

    async def wait_closed_socket():
        await wait_readable(b)

    h = finish(loop, s.spawn(wait_closed_socket()))
    with raises(StreamClosed, "closed"):
        h.result()
    close(a)


def test_not_pollable_and_outside_a_task():
    s, loop = loop_with_timer()

    async def bad():
        await wait_readable(object())

    h = finish(loop, s.spawn(bad()))
    with raises(NotPollable, "select.poll cannot watch"):
        h.result()
    with raises(NoCurrentTask):
        wait_readable(0)
    # The poller still works after the refusal.
    a, b = tcp_pair()

    async def good():
        await wait_writable(a)
        return "writable"

    assert loop.run(s.spawn(good())) == "writable"
    close(a, b)


def test_second_waiter_same_direction_raises_iobusy_and_the_first_keeps_waiting():
    s, loop = loop_with_timer()
    a, b = tcp_pair()
    events = []

    async def reader(name):
        try:
            await wait_readable(b)
        except IOBusy as e:
            events.append(name + " busy: " + str(e).split(":")[0])
            return
        events.append(name + " got " + b.read(10).decode())

    async def writer():
        await sleep_ms(2)
        await wait_writable(b)  # same object, other direction: allowed
        events.append("writer on b ok")
        send_all(a, b"x")

    h1 = s.spawn(reader("first"))
    s.spawn(reader("second"))
    s.spawn(writer())
    loop.run(h1)
    assert events[0].startswith("second busy: task ")
    assert events[1:] == ["writer on b ok", "first got x"]
    close(a, b)


def test_cancel_and_timeout_unregister_the_waiter():
    s, loop = loop_with_timer()
    a, b = tcp_pair()

    async def forever():
        await wait_readable(b)

    h = s.spawn(forever())
    s.tick()
    p = s.poller
    assert p.waiters == 1
    assert h.cancel()
    s.tick()
    assert h.is_cancelled() and p.waiters == 0
    entry = p._entries[b if hasattr(b, "readinto") and not hasattr(b, "sock") else b.fileno()]
    assert (entry.reader, entry.mask) == (None, 0)

    async def timed():
        try:
            await timeout(wait_readable(b), 5)
        except Timeout:
            return "timed out"

    assert loop.run(s.spawn(timed())) == "timed out"
    assert p.waiters == 0 and entry.reader is None

    async def again():  # the same object and direction can be waited on again
        await wait_readable(b)
        return b.read(5)

    h = s.spawn(again())
    s.tick()
    send_all(a, b"again")
    assert loop.run(h) == b"again"
    close(a, b)


def test_spurious_wake_keeps_waiting():
    s, loop = loop_with_timer()
    a, b = tcp_pair()

    async def reader():
        await wait_readable(b)
        return b.read(5)

    h = s.spawn(reader())
    s.tick()
    s.wake(h._live_slot())  # not the poller: the task must park again
    s.tick()
    assert not h.is_complete() and s.poller.waiters == 1
    send_all(a, b"data!")
    assert loop.run(h) == b"data!"
    close(a, b)


def test_io_names_resolve_from_both_packages():
    import shimeji
    import shimeji.io as io

    for name in ("wait_readable", "wait_writable", "IOPoller", "poller_for", "Stream",
                 "StreamReader", "StreamWriter", "Server", "open_connection", "start_server"):
        assert getattr(io, name) is getattr(shimeji, name), name
    assert io.StreamReader is io.StreamWriter is io.Stream
    assert (io.POLLIN, io.POLLOUT, io.POLLERR, io.POLLHUP) == (1, 4, 8, 16)
    assert issubclass(shimeji.StreamClosed, shimeji.IOFailed)
    assert issubclass(shimeji.IOBusy, shimeji.WaiterBusy)
