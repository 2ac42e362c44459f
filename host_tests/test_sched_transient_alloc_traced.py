# The transient-frame check of test_sched_transient_alloc.py (a steady round leaves
# micropython.mem_total() where it was) over the traced paths, the run loop's I/O wait, the
# executor's injection and a stream's write. Apart from the untraced paths, and each test
# importing its own workload, so no board loads the trace, I/O and executor modules at once
# for a test that is then skipped: on the RP2040's .mpy deploy path (shimeji's code in the
# heap) importing all of them at the module's top ran out of heap (session 14).
from framehelp import let_go, needs_mem_total, spent, steady
from gate import Gate
from shimeji import (
    FifoPolicy,
    InterruptScheduler,
    NoSockets,
    RoundRobinPolicy,
    StaticScheduler,
    WaitCell,
    port,
    yield_now,
)
from support import _Skipped, needs_threads


def _needs_sockets(fn):
    """Skipped, saying so, on firmware without loopback sockets (the test uses loopback TCP;
    test_io_alloc, whose workload it repeats, is host-only for that reason): no socket module
    (``listen`` raises ``NoSockets``: the RP2040 build), or one with no network interface (the
    STM32L475 build: "no available NIC"). A test already skipped (no mem_total) is not probed:
    the probe loads the I/O modules."""
    if isinstance(fn, _Skipped):
        return fn
    try:
        from shimeji.io.sockets import listen

        srv, _port = listen("127.0.0.1", 0, 1)
        srv.close()
    except (ImportError, OSError, NoSockets) as e:
        return _Skipped(fn, "needs loopback sockets, which this firmware has not: %r" % e)
    return fn


def _steps(loop, n):
    for _ in range(n):
        loop.step()


@_needs_sockets
@needs_mem_total
def test_the_run_loop_with_io_waiters_takes_no_frame():
    from iohelp import close, tcp_pair
    from shimeji import RunLoop, Timer, wait_readable, wait_writable

    s = StaticScheduler(4, timer=Timer())
    loop = RunLoop(s)
    a, b = tcp_pair()

    async def writer():
        while True:
            await wait_writable(a)

    async def idle_reader():
        while True:
            await wait_readable(b)

    s.spawn(writer())
    s.spawn(idle_reader())
    bytes_taken = steady(_steps, loop, 20)
    assert bytes_taken == 0, bytes_taken
    close(a, b)


def _ticks_plain(s, n):
    for _ in range(n):
        s.tick()


@needs_mem_total
def test_the_traced_ticks_wakes_and_turns_take_no_frame():
    from test_trace_alloc import _turn_and_tick, _wake_all_and_tick, spinner

    from shimeji import FakeClock as TickClock
    from shimeji import Timer, Trace, sleep_ms

    seen = []
    for policy in (FifoPolicy(), RoundRobinPolicy(slice_us=1000)):
        s = StaticScheduler(8, policy=policy)
        Trace(32).attach(s)
        for _ in range(8):
            s.spawn(spinner())
        seen.append(("tick " + policy.name, steady(_ticks_plain, s, 20)))
        s.close()
    s = StaticScheduler(8)
    Trace(32, side=4).attach(s)
    gates = [Gate() for _ in range(8)]

    async def parked(g):
        while True:
            await g

    for g in gates:
        s.spawn(parked(g))
    s.tick()
    seen.append(("wake and park", steady(_wake_all_and_tick, gates, s)))
    s.close()
    clock = TickClock(0, 1000)  # shimeji's FakeClock: 1 ms a tick
    timer = Timer(clock, 1000)
    s = StaticScheduler(8, timer=timer, clock_us=clock)
    Trace(64).attach(s)

    async def napper():
        while True:
            await sleep_ms(1)

    for _ in range(8):
        s.spawn(napper())
    seen.append(("timer turn", steady(_turn_and_tick, clock, timer, s)))
    let_go(s)
    assert seen == [(name, 0) for name, _ in seen], seen


@needs_mem_total
def test_the_traced_interrupt_level_takes_no_frame():
    from test_trace_alloc import _preempting_rounds

    from shimeji import Trace

    level = InterruptScheduler(4)
    s = StaticScheduler(4)
    Trace(16).attach(level)
    Trace(16).attach(s)
    cell = WaitCell()

    async def urgent():
        while True:
            await cell.wait()

    async def hog():
        while True:
            cell.wake()  # the level's callback runs at the check point, inside this poll
            port.check_point()
            await yield_now()

    level.spawn(urgent())
    port.check_point()
    s.spawn(hog())
    bytes_taken = steady(_preempting_rounds, s, 10)
    let_go(level, s)
    assert bytes_taken == 0, bytes_taken
    assert level.error is None


async def _done():
    pass


@needs_threads  # an Executor's workers are threads (the qemu port has none)
@needs_mem_total
def test_injecting_into_an_executor_and_taking_take_no_frame():
    from shimeji import Executor

    ex = Executor(workers=2, capacity=8)
    w = ex.workers[1]
    coros = [_done() for _ in range(6)]  # made beforehand: calling an async def allocates
    ex.spawn_detached(coros[0])
    seen = [("spawn_detached", spent(ex.spawn_detached, coros[1]))]
    ex.spawn_detached(coros[2])
    seen.append(("take injected", spent(w._take_injected, 2)))
    assert seen == [("spawn_detached", 0), ("take injected", 0)], seen
    ex.close()
    ex.join()
    for c in coros[3:]:
        c.close()


class _TakesAll:
    def write(self, buf):
        return len(buf)


def _writes(stream, buf, n):
    for _ in range(n):
        stream.write(buf)


@needs_mem_total
def test_a_stream_write_that_goes_out_at_once_takes_no_frame():
    # StreamWriter.write's argument check is a try block: as bytecode its frame went to the
    # heap at every write (136 B on the unix port), which heap_lock and mem_alloc tests miss
    from shimeji.io.streams import Stream

    stream = Stream(_TakesAll())
    assert steady(_writes, stream, b"hello", 20) == 0
    assert not stream.out_buf  # everything went out: nothing kept for drain()
