# The hot paths take no heap block even for a moment. A bytecode function whose locals and
# stack pass 11 words gets its frame from the heap and frees it on return: heap_lock cannot
# see it (MicroPython then falls back to the C stack) and neither can a gc.mem_alloc() delta
# (the block is freed). micropython.mem_total(), the bytes ever allocated, does: each steady
# state round below must leave it where it was. The workloads are the other alloc tests'
# (their helpers are reused), so every path proved heap_lock-clean there is checked here too.
# Paths still taking a frame are listed in docs/benchmarks.md ("Transient heap frames").
import gc

from test_policy_alloc import _loaded, _ticks
from test_sched_alloc_hot_paths import _mixed, _mixed_rounds
from test_sync_alloc import CYCLES
from test_time_alloc import _loop, guarded, make, mixed_sleeper, sleeper
from test_trace_alloc import _preempting_rounds, _turn_and_tick, _wake_all_and_tick, spinner

from gate import Gate
from shimeji import (
    CfsPolicy,
    FifoPolicy,
    InterruptScheduler,
    NoSockets,
    PriorityPolicy,
    RoundRobinPolicy,
    RunLoop,
    StaticScheduler,
    Timer,
    Trace,
    WaitCell,
    port,
    preempt_due,
    preempt_point,
    sleep_ms,
    wait_readable,
    wait_writable,
    yield_now,
)
from shimeji import FakeClock as TickClock
from support import (
    IS_MICROPYTHON,
    FakeClock,
    _Skipped,
    micropython_only,
    needs_threads,
    thread_section,
)


def _needs_mem_total(fn):
    """MicroPython only (reported skipped by pytest), and skipped with the reason on a build
    without ``micropython.mem_total`` (MICROPY_MEM_STATS off)."""
    if not IS_MICROPYTHON:
        return micropython_only(fn)
    import micropython

    if hasattr(micropython, "mem_total"):
        return fn
    return _Skipped(fn, "needs micropython.mem_total (a build with MICROPY_MEM_STATS)")


def _needs_sockets(fn):
    """Skipped, saying so, on firmware without loopback sockets (the test uses loopback TCP;
    test_io_alloc, whose workload it repeats, is host-only for that reason): no socket module
    (``listen`` raises ``NoSockets``: the RP2040 build), or one with no network interface (the
    STM32L475 build: "no available NIC")."""
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


def _let_go(*scheds):
    """Close the schedulers a test made and drop the trace ring's last Trace (kept for
    ``tools/trace.py pull``, and its scheduler with it): on the STM32L475 the heap the tests
    after it need was otherwise held (~17 KB by the end of this module)."""
    from shimeji.trace import ring

    for s in scheds:
        s.close()
    ring.last = None
    gc.collect()


def _noop(a=None, b=None, c=None, d=None):
    pass


def spent(fn, *args):
    """Bytes allocated while ``fn(*args)`` ran, freed or not (the call itself taken off)."""
    import micropython

    gc.collect()
    before = micropython.mem_total()
    _noop(*args)
    call = micropython.mem_total() - before
    before = micropython.mem_total()
    fn(*args)
    return micropython.mem_total() - before - call


def _steady(fn, *args):
    fn(*args)  # warm up: every path taken once
    return spent(fn, *args)


async def checker(clk):
    while True:
        clk.advance(30)
        if preempt_due():
            await preempt_point()
        await yield_now()


@_needs_mem_total
def test_tick_and_preemption_checks_take_no_frame_under_every_policy():
    seen = []
    for make_policy in (FifoPolicy, lambda: FifoPolicy(hog_us=60),
                        lambda: RoundRobinPolicy(70, hog_us=60), lambda: CfsPolicy(50),
                        PriorityPolicy, lambda: PriorityPolicy(slice_us=70, hog_us=60)):
        policy = make_policy()
        clk = FakeClock()
        s = StaticScheduler(4, policy=policy, clock_us=clk.now)
        for _ in range(3):
            s.spawn(checker(clk))
        seen.append((policy.name, _steady(_ticks, s, 20)))
        s.close()
    assert seen == [(name, 0) for name, _ in seen], seen


@_needs_mem_total
def test_wakes_from_tasks_and_the_inbox_take_no_frame_under_every_policy():
    seen = []
    # Each policy made for its run and dropped with its scheduler (a policy keeps its queued
    # slots): two 12-slot schedulers alive at once did not fit the STM32L475's heap.
    for make_policy, prios in (
            (FifoPolicy, None), (lambda: RoundRobinPolicy(70, hog_us=60), None),
            (lambda: CfsPolicy(granularity_us=50), [0, 5, -5, 19, -20, 3, 0, 1, 0, 2]),
            (lambda: PriorityPolicy(slice_us=70), [1, 1, 2, 0, 3, 1, 2, 0, 4, 4, 5, 6])):
        policy = make_policy()
        s = _loaded(policy, prios)[0]  # workers, parked gates and a task opening them
        seen.append((policy.name, _steady(_ticks, s, 20)))
        s.close()
        s = policy = None
        gc.collect()
    assert [name for name, _ in seen] == ["fifo", "round-robin", "cfs", "priority"]
    assert seen == [(name, 0) for name, _ in seen], seen


@_needs_mem_total
def test_sync_wait_and_wake_take_no_frame():
    seen = []
    for setup in CYCLES:  # WaitCell, WaitQueue + Event, Mutex + Semaphore, channels, WaitMap
        s, cycle, check = setup(thread_section())
        seen.append((setup.__name__, _steady(cycle)))
        assert check(), setup.__name__
        s.close()
    assert seen == [(name, 0) for name, _ in seen], seen


def _inbox_round(s, g):
    g.open()  # what an interrupt handler does: the wake goes through the inbox
    s.tick()


@_needs_mem_total
def test_a_wake_from_outside_and_the_park_take_no_frame():
    s = StaticScheduler(4)
    g = Gate()
    n = [0]

    async def parked():
        while True:
            await g
            n[0] += 1

    s.spawn(parked())
    s.tick()
    bytes_taken = _steady(_inbox_round, s, g)
    assert bytes_taken == 0, bytes_taken
    assert n[0] == 2


@_needs_mem_total
def test_timer_turns_and_sleeps_take_no_frame():
    clock, timer, s = make()
    for _ in range(4):
        s.spawn(mixed_sleeper(timer))
    for i in range(8):
        s.spawn(sleeper(1 + i * 5))
    bytes_taken = _steady(_loop, clock, timer, s, 100)
    assert bytes_taken == 0, bytes_taken


def _isr_round(cell):
    cell.wake()
    port.check_point()  # the interrupt level's callback runs here


@_needs_mem_total
def test_the_interrupt_level_wake_and_run_take_no_frame():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    n = [0]

    async def urgent():
        while True:
            await cell.wait()
            n[0] += 1

    isr.spawn(urgent())
    port.check_point()
    bytes_taken = _steady(_isr_round, cell)
    _let_go(isr)
    assert bytes_taken == 0, bytes_taken
    assert n[0] == 2 and isr.error is None


def _mixed_spent(policy_class):
    """One policy's figure in a frame of its own. Made in the test's loop, the scheduler
    outlived ``del`` and ``close()``: MicroPython's VM leaves popped values in the frame's
    value stack, which the GC scans, so a stale slot kept the last policy's scheduler alive
    while the next was made, and on the STM32L475 (92 KB heap, qemu, main bfdf6d6) the third's
    fields failed (MemoryError; 34,048 -> 21,216 -> 18,432 B free). A returned frame is gone."""
    clock, timer, s = _mixed(policy_class(), FakeClock())
    n = spent(_mixed_rounds, clock, timer, s, 20)
    s.close()
    return n


@_needs_mem_total
def test_the_mixed_workload_takes_no_frame_under_every_policy():
    seen = []
    for policy_class in (FifoPolicy, RoundRobinPolicy, CfsPolicy, PriorityPolicy):
        seen.append((policy_class.__name__, _mixed_spent(policy_class)))
        gc.collect()
    assert seen == [(name, 0) for name, _ in seen], seen


@_needs_sockets
@_needs_mem_total
def test_the_run_loop_with_io_waiters_takes_no_frame():
    from iohelp import close, tcp_pair

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
    bytes_taken = _steady(_steps, loop, 20)
    assert bytes_taken == 0, bytes_taken
    close(a, b)


@_needs_mem_total
def test_a_timeout_that_is_met_takes_no_frame():
    clock, timer, s = make()
    for _ in range(4):
        s.spawn(guarded(3, 10))  # timeout(sleep_ms(3), 10), again and again
    bytes_taken = _steady(_loop, clock, timer, s, 50)
    assert bytes_taken == 0, bytes_taken


def _ticks_plain(s, n):
    for _ in range(n):
        s.tick()


@_needs_mem_total
def test_the_traced_ticks_wakes_and_turns_take_no_frame():
    seen = []
    for policy in (FifoPolicy(), RoundRobinPolicy(slice_us=1000)):
        s = StaticScheduler(8, policy=policy)
        Trace(32).attach(s)
        for _ in range(8):
            s.spawn(spinner())
        seen.append(("tick " + policy.name, _steady(_ticks_plain, s, 20)))
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
    seen.append(("wake and park", _steady(_wake_all_and_tick, gates, s)))
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
    seen.append(("timer turn", _steady(_turn_and_tick, clock, timer, s)))
    _let_go(s)
    assert seen == [(name, 0) for name, _ in seen], seen


@_needs_mem_total
def test_the_traced_interrupt_level_takes_no_frame():
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
    bytes_taken = _steady(_preempting_rounds, s, 10)
    _let_go(level, s)
    assert bytes_taken == 0, bytes_taken
    assert level.error is None


async def _done():
    pass


@needs_threads  # an Executor's workers are threads (the qemu port has none)
@_needs_mem_total
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


@_needs_mem_total
def test_a_stream_write_that_goes_out_at_once_takes_no_frame():
    # StreamWriter.write's argument check is a try block: as bytecode its frame went to the
    # heap at every write (136 B on the unix port), which heap_lock and mem_alloc tests miss
    from shimeji.io.streams import Stream

    stream = Stream(_TakesAll())
    assert _steady(_writes, stream, b"hello", 20) == 0
    assert not stream.out_buf  # everything went out: nothing kept for drain()
