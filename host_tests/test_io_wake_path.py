# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# The I/O wake path: a poll that finds a reader's object ready links the task straight into
# the FIFO queue (no inbox, counted as an external wake), behind wakes already in the inbox;
# a Stream's reads re-arm the poller's entry in line and register anew once it was dropped.
from iohelp import close, send_all, tcp_pair
from shimeji import StaticScheduler, Stream, Timer, poller_for, wait_readable


def test_a_ready_reader_goes_straight_into_the_fifo_queue():
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    events = []

    async def reader():
        await wait_readable(b)
        events.append(b.read(10))

    h = s.spawn(reader())
    s.tick()  # the reader registers and parks
    p = s.poller
    assert p.waiters == 1 and s._fifo.head is None
    send_all(a, b"ping")
    woken = 0
    for _ in range(1000):
        woken = p.poll(10)
        if woken:
            break
    assert woken == 1 and p.waiters == 0
    assert s._inbox_head is None and s._fifo.head is h._ref and s._fifo.tail is h._ref
    t = s.tick()
    assert (t.polled, t.woken, t.woken_external, t.completed) == (1, 1, 1, 1)
    assert events == [b"ping"] and h.is_complete()
    close(a, b)


def test_an_io_wake_queues_behind_a_wake_already_in_the_inbox():
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    events = []

    async def reader():
        await wait_readable(b)
        events.append("reader " + b.read(10).decode())

    async def sleeper():
        await wait_readable(a)  # never readable here: woken by s.wake below
        events.append("woken first")

    h1 = s.spawn(sleeper())
    h2 = s.spawn(reader())
    s.tick()
    s.poller.remove(h1._ref)  # taken off its wait, then woken as a wake from elsewhere
    s.wake(h1._ref)
    send_all(a, b"x")
    for _ in range(1000):
        if s.poller.poll(10):
            break
    # The inbox held a wake: the I/O wake goes behind it, through the inbox too.
    assert s._fifo.head is None and s._inbox_head is h1._ref and s._inbox_tail is h2._ref
    t = s.tick()
    assert t.woken == 2 and t.completed == 2
    assert events == ["woken first", "reader x"]
    assert h1.is_complete() and h2.is_complete()
    close(a, b)


def test_stream_reads_rearm_in_line_and_register_again_after_a_drop():
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    events = []
    r = Stream(b)

    async def reader(n):
        for _ in range(n):
            events.append(await r.read(10))

    def round_trip(n, chunks):
        h = s.spawn(reader(n))
        for chunk in chunks:
            for _ in range(1000):
                s.tick()
                if s.poller is not None and s.poller.waiters:
                    break
            send_all(a, chunk)
            for _ in range(1000):
                if s.poller.poll(10):
                    break
        s.tick()
        assert h.is_complete()
        h.result()

    round_trip(2, (b"one", b"two"))
    p = s.poller
    entry = r._op.entry
    assert entry is not None and entry.poller is p and entry.reader is None
    assert list(p._entries.values()) == [entry]
    p.forget(b)  # dropped: the next read registers b again, with a new entry
    assert entry.poller is None and not p._entries
    round_trip(1, (b"three",))
    assert r._op.entry is not entry and r._op.entry.poller is p
    p.close()  # a new poller: the next read registers with it
    round_trip(1, (b"four",))
    q = s.poller
    assert q is not p and r._op.entry.poller is q and q.waiters == 0
    assert events == [b"one", b"two", b"three", b"four"]
    q.close()
    close(a, b)


def test_poller_for_gives_the_scheduler_its_one_poller():
    s = StaticScheduler(2, timer=Timer())
    p = poller_for(s)
    assert poller_for(s) is p and s.poller is p and p.wakeups == 0
    p.close()
    assert s.poller is None


def test_cancelling_a_read_rearmed_in_line_unregisters_it():
    # The in-line re-arm records no direction on the slot: remove() asks the entry.
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    r = Stream(b)
    events = []

    async def reader():
        events.append(await r.read(10))
        events.append(await r.read(10))  # re-armed in line, then cancelled

    h = s.spawn(reader())
    s.tick()
    send_all(a, b"one")
    for _ in range(1000):
        if s.poller.poll(10):
            break
    s.tick()  # reads b"one", then waits again through the in-line path
    p = s.poller
    entry = r._op.entry
    assert events == [b"one"] and entry.reader is h._ref and p.waiters == 1
    h.cancel()
    s.tick()
    assert h.is_complete() and entry.reader is None and p.waiters == 0
    assert not entry.mask & 1  # reading switched off: nobody waits for it
    h2 = s.spawn(reader())  # another task reads the stream: no IOBusy
    s.tick()
    assert entry.reader is h2._ref and p.waiters == 1
    send_all(a, b"two")
    for _ in range(1000):
        if p.poll(10):
            break
    s.tick()
    assert events == [b"one", b"two"] and entry.reader is h2._ref
    h2.cancel()
    s.tick()
    assert p.waiters == 0 and entry.reader is None
    p.close()
    close(a, b)


def test_a_read_cancelled_after_its_wake_leaves_the_stream_free():
    # Woken by the poll, cancelled before it ran: the stream is not left "being read" (a
    # later read raised IOBusy, naming the cancelled task, whose slot kept the object).
    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    r = Stream(b)
    events = []

    async def reader():
        events.append(await r.read(10))

    h = s.spawn(reader())
    s.tick()
    send_all(a, b"one")
    for _ in range(1000):
        if s.poller.poll(10):
            break
    h.cancel()  # queued by the wake, not run yet
    s.tick()
    assert h.is_cancelled() and events == []
    h2 = s.spawn(reader())
    s.tick()  # registers (no IOBusy), and the bytes are still there
    for _ in range(1000):
        if s.poller.poll(10):
            break
    s.tick()
    assert h2.is_complete() and events == [b"one"]
    s.poller.close()
    close(a, b)


def test_the_polls_section_in_line_and_held_already():
    # poll takes a free LockCriticalSection with the lock's own calls (MicroPython); held by
    # this thread already (a re-entry), it goes through the scheduler's enter/exit instead.
    # Either way the wake is made under it and the section is free afterwards.
    from shimeji import LockCriticalSection, port

    cs = LockCriticalSection()
    s = StaticScheduler(4, timer=Timer(), critical_section=cs)
    a, b = tcp_pair()
    events = []

    async def reader():
        for _ in range(4):
            await wait_readable(b)
            events.append(b.read(10))

    h = s.spawn(reader())
    p = poller_for(s)
    assert p._lock is (cs if port.IS_MICROPYTHON else None)
    # A poll that may wait reads the lock's calls before it waits (ms > 0), one that just
    # looks at the first ready reader (ms == 0)
    for held, ms in ((False, 10), (True, 10), (False, 0), (True, 0)):
        s.tick()  # the reader (re)registers and parks
        send_all(a, b"held" if held else b"free")
        woken = 0
        for _ in range(1000):
            if held:
                state = cs.enter()
                woken = p.poll(ms)
                assert cs.held()
                cs.exit(state)
            else:
                woken = p.poll(ms)
            if woken:
                break
        assert woken == 1 and not cs.held() and s._fifo.head is h._ref
        if p._lock is not None:
            assert cs._owner is None and not cs._locked()
    s.tick()
    assert events == [b"free", b"held", b"free", b"held"] and h.is_complete()
    close(a, b)


def test_a_trace_attached_by_a_timer_callback_during_an_io_idle_records_the_next_tick():
    # The run loop decides before an idle in poll which tick comes after it (tick_fifo or the
    # scheduler's, traced); a timer entry's callback in the turn after that idle attaches a
    # trace and wakes a task: the tick that runs it is the traced one.
    from shimeji import Event, RunLoop, TimerEntry, Trace

    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    trace = Trace(32)
    ev = Event()
    order = []

    async def idle_reader():
        await wait_readable(b)  # the loop idles in poll while this waits
        order.append("reader")

    async def waiter():
        await ev.wait()
        order.append("waiter")
        send_all(a, b"x")

    def attach_and_wake(entry):
        trace.attach(s)
        order.append("callback")
        ev.set()

    h1 = s.spawn(idle_reader())
    h2 = s.spawn(waiter(), "waiter")
    entry = TimerEntry(callback=attach_and_wake)
    s.timer.arm_ms(entry, 3)
    RunLoop(s).run(h1)
    trace.detach()
    assert order == ["callback", "waiter", "reader"] and h2.is_complete()
    polled = [task for _, kind, task, _ in trace.records() if kind == 2]  # POLL_BEGIN
    assert polled[:1] == [h2.id]
    close(a, b)
