"""Instruction counts per operation of shimeji's hot paths, on the MicroPython unix port.

Usage: python tools/instr.py [--firmware DIR] [--only NAME,...] [--n N] [--calls]

Each workload runs under ``valgrind --tool=callgrind`` twice, with N and 2N operations; the
difference divided by N is the cost of one operation, with start-up, imports and compilation
cancelled out. A workload that prints ``FIRED <count>`` (the tickless ones: their loops stop at
a check that overshoots N) is divided by the difference of the counts instead, and pairs of a
shimeji and an asyncio workload (``RATIOS``) print their ratio. Counts are repeatable to a
fraction of a percent, unlike wall-clock times on a shared machine (see docs/benchmarks.md,
"Timer tuning log"). ``--firmware`` measures another checkout (say, main's) for a before/after
table. ``--calls`` also prints, per operation, how many times the VM's runtime helpers behind
attribute access, subscripts and object tests were called (``RUNTIME_CALLS``): what a hot
path's Python-level operations cost, by kind.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
import sys
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, TimerWheel, sleep_ms
N = int(sys.argv[1])
"""

EXECUTOR_CHUNK = """
from shimeji import Executor, yield_now
CHUNKS = N // 64
async def compute():
    s = 0
    for k in range(CHUNKS):
        for j in range(40):
            s += j ^ k
        await yield_now()
    return s
ex = Executor(workers=%d, capacity=68)
async def main():
    hs = [ex.spawn(compute()) for _ in range(64)]
    for h in hs:
        await h
ex.run(main())
"""

EXECUTOR_TASK = """
from shimeji import Executor, yield_now
async def compute():
    s = 0
    for k in range(4):
        for j in range(40):
            s += j ^ k
        await yield_now()
    return s
ex = Executor(workers=%d, capacity=68)
async def main():
    for _ in range(N // 64):
        hs = [ex.spawn(compute()) for _ in range(64)]
        for h in hs:
            await h
ex.run(main())
"""

# The tickless workloads' parts: a clock (``clock.read``, ``clock.idle(us)``) and the program.
MOVING_CLOCK = """
class Moving:
    def __init__(self):
        self.t = 0
    def read(self):
        t = self.t
        self.t = (t + 2) & 0x3FFFFFFF
        return t
    def idle(self, us):
        self.t = (self.t + us) & 0x3FFFFFFF
clock = Moving()
"""

VIPER_CLOCK = """
import micropython
from array import array
_t = array("i", [0])
@micropython.viper
def _read() -> int:
    b = ptr32(_t)
    t = b[0]
    b[0] = (t + 2) & 0x3FFFFFFF
    return t
class Moving:
    read = staticmethod(_read)
    def idle(self, us):
        _t[0] = (_t[0] + us) & 0x3FFFFFFF
clock = Moving()
"""

TICKLESS = """
from shimeji import RunLoop
timer = Timer(clock.read, 1)
s = StaticScheduler(201, timer=timer)
fired = [0]
async def sleeper(i):
    ms = 1 + i % 7
    while True:
        await sleep_ms(ms)
        fired[0] += 1
async def main():
    k = 0
    while fired[0] < N:
        await sleep_ms(10)
        k += 1
    print("FIRED", fired[0] + k)
for i in range(200):
    s.spawn(sleeper(i))
RunLoop(s, idle=clock.idle, max_idle_us=None).run(s.spawn(main()))
"""

# asyncio's clock in ms: µs moving 2 a read, read in ms; ``idle(ms)`` jumps it.
ASYNCIO_MOVING_CLOCK = """
class Moving:
    def __init__(self):
        self.t = 0
    def read(self):
        t = self.t
        self.t = t + 2
        return t // 1000
    def idle(self, ms):
        self.t += ms * 1000
clock = Moving()
"""

ASYNCIO_VIPER_CLOCK = """
import micropython
from array import array
_t = array("i", [0])
@micropython.viper
def _read() -> int:
    b = ptr32(_t)
    t = b[0]
    b[0] = t + 2
    return t // 1000
class Moving:
    read = staticmethod(_read)
    def idle(self, ms):
        _t[0] += ms * 1000
clock = Moving()
"""

# Every task is queued at a key of the clock (create_task's push without a key reads the real
# ticks_ms in C), run by asyncio's own loop: deterministic, as the shimeji runs are.
ASYNCIO_TICKLESS = """
import asyncio
from asyncio import core
class IdleQueue(core.IOQueue):
    def wait_io_event(self, dt):
        if dt > 0:
            clock.idle(dt)
            dt = 0
        for s, ev in self.poller.ipoll(dt):
            pass  # (no stream is registered)
core.ticks = clock.read
core._io_queue = IdleQueue()
fired = [0]
async def sleeper(i):
    ms = 1 + i % 7
    while True:
        await asyncio.sleep_ms(ms)
        fired[0] += 1
async def main():
    k = 0
    while fired[0] < N:
        await asyncio.sleep_ms(10)
        k += 1
    print("FIRED", fired[0] + k)
def start(coro):
    t = asyncio.create_task(coro)
    core._task_queue.remove(t)
    core._task_queue.push(t, clock.read())
    return t
for i in range(200):
    start(sleeper(i))
core.run_until_complete(start(main()))
"""

# Pairs printed as a ratio when both are measured: (shimeji's, asyncio's).
RATIOS = (("tickless", "asyncio tickless"),
          ("tickless viper clock", "asyncio tickless viper clock"))

WORKLOADS = {
    # The executor bench's chunk (bench/bench_executor.py): 64 tasks, N // 64 chunks each,
    # yield_now() between; the difference of the N and 2N runs is a chunk's steady cost on
    # the worker loop (threads run one at a time under valgrind: no contention counted).
    "executor chunk 1w": EXECUTOR_CHUNK % 1,
    "executor chunk 2w": EXECUTOR_CHUNK % 2,
    # bench_executor's bare_throughput on one thread: the chunk as a plain generator resumed
    # by ``next``, no executor (what the workers' chunks cost beyond it is theirs).
    "executor chunk bare": """
CHUNKS = N // 64
def compute():
    s = 0
    for k in range(CHUNKS):
        for j in range(40):
            s += j ^ k
        yield s
gens = [compute() for _ in range(64)]
for _ in range(CHUNKS):
    for g in gens:
        next(g)
""",
    # A task's whole life (spawned by main, polled 4 times, joined), 64 at a time: the
    # difference between 2 workers and 1 is what a task's steal and hand-over cost.
    "executor task 1w": EXECUTOR_TASK % 1,
    "executor task 2w": EXECUTOR_TASK % 2,
    # bench_executor's "1 worker vs StaticScheduler" pair: 100 tasks of N // 100 yield_now()
    # each, on Executor(workers=1) (spawned by main, joined) and ticked by a plain scheduler.
    "executor switch 1w": """
from shimeji import Executor, yield_now
async def yielder():
    for _ in range(N // 100):
        await yield_now()
ex = Executor(workers=1, capacity=104)
async def main():
    hs = [ex.spawn(yielder()) for _ in range(100)]
    for h in hs:
        await h
ex.run(main())
""",
    "executor switch plain": """
from shimeji import yield_now
async def yielder():
    for _ in range(N // 100):
        await yield_now()
s = StaticScheduler(100)
for _ in range(100):
    s.spawn_detached(yielder())
while s.tick().has_remaining:
    pass
""",
    # 100 tasks sleeping 1-3 ms; the clock moves 250 µs per loop round (turn + tick).
    "sleeps": """
clock = FakeClock()
timer = Timer(clock, TICK)
s = StaticScheduler(100, timer=timer)
fired = [0]
async def sleeper(ms):
    while True:
        await sleep_ms(ms)
        fired[0] += 1
for i in range(100):
    s.spawn(sleeper(1 + i % 3))
while fired[0] < N:
    timer.turn()
    s.tick()
    clock.advance_us(250)
""",
    # The bench's loop shape: the clock jumps to the next deadline when nothing is runnable.
    "bench loop": """
clock = FakeClock()
timer = Timer(clock, TICK)
s = StaticScheduler(200, timer=timer)
fired = [0]
async def sleeper(i):
    ms = 1 + i % 7
    while True:
        await sleep_ms(ms)
        fired[0] += 1
for i in range(200):
    s.spawn(sleeper(i))
while fired[0] < N:
    timer.turn()
    if not s.tick().has_remaining:
        nxt = timer.next_in_us()
        if nxt > 0:
            clock.advance_us(nxt)
""",
    # The bench's tickless loop (bench_timers.run_tickless) on a clock that moves 2 µs per
    # reading, so that every sleep gets a deadline of its own as on the real clock: 200 tasks
    # x sleep_ms(1-7) on a µs Timer, RunLoop(max_idle_us=None), the idle jumping the clock.
    # Per fired timer (it prints FIRED: main's sleeps of 10 ms count too). The clock is a
    # Python method (~1k instructions a read), as in "asyncio tickless"; "tickless viper
    # clock" reads one as cheap as a board's time.ticks_us.
    "tickless": MOVING_CLOCK + TICKLESS,
    # The same workload on MicroPython's asyncio (its C _asyncio), counted the same way:
    # asyncio.sleep_ms(1-7) x 200 tasks, main's sleep_ms(10) until N have fired. Its ticks_ms
    # (asyncio.core's ``ticks``) is the same Python clock read in ms, and its idle
    # (IOQueue.wait_io_event with dt > 0) jumps it; at dt 0 it polls as asyncio does,
    # ipoll(0) once per task run.
    "asyncio tickless": ASYNCIO_MOVING_CLOCK + ASYNCIO_TICKLESS,
    # Both again with a clock that costs what a board's ticks_us costs (a viper function
    # over an array: ~100-200 instructions a read, where the Python method costs ~1k).
    "tickless viper clock": VIPER_CLOCK + TICKLESS,
    "asyncio tickless viper clock": ASYNCIO_VIPER_CLOCK + ASYNCIO_TICKLESS,
    # The same with every sleep awaiting time.sleep's _Sleep (as on an executor's worker or
    # an interrupt level), not the ring: _Sleep's __next__ per resumption.
    "tickless no ring": """
import shimeji.time.sleep as _S
_S._rebind(_S._bound[0], _S._sleep, _S._no_ring)  # every sleep awaits _Sleep (as on a worker)
""" + MOVING_CLOCK + TICKLESS,
    # The same workload on bench/proto_flat_sleep.py: a design study with the timer entry's
    # and the task slot's hot fields in one flat array and the sleep path in viper
    # (docs/benchmarks.md, "Timers, round seven").
    "flat sleep prototype": """
sys.path.insert(0, %r)
import proto_flat_sleep
proto_flat_sleep.run(N)
""" % os.path.join(ROOT, "bench"),
    # The flat prototype's wheel in words with the task slot left an object (its state,
    # sleeping flag and FIFO link as fields, the tick native code over them): the redesign's
    # step "the wheel in words" alone (docs/benchmarks.md, "Timers, round eight").
    "wheel words prototype": """
sys.path.insert(0, %r)
import proto_wheel_words
proto_wheel_words.run(N)
""" % os.path.join(ROOT, "bench"),
    # The flat prototype with the duties the runtime's path keeps (per poll, per handed-off
    # entry, per tick and per loop iteration), as words where the flat design keeps them:
    # the redesign's target (docs/benchmarks.md, "Timers, round eight").
    "flat duties prototype": """
sys.path.insert(0, %r)
import proto_flat_duties
proto_flat_duties.run(N)
""" % os.path.join(ROOT, "bench"),
    # The wheel-words prototype with the runtime's duties as the object model has them (the
    # entry's pos kept on the object, the hand-off's and the tick's checks of slot fields):
    # the redesign without the slot's words (docs/benchmarks.md, "Timers, round eight").
    "wheel duties prototype": """
sys.path.insert(0, %r)
import proto_wheel_duties
proto_wheel_duties.run(N)
""" % os.path.join(ROOT, "bench"),
    # The FIFO tick's poll loop in viper over slot words (the state, the throw flag and the
    # ring's link by slot number; a completion's exception bound to a module global) against
    # the same loop in native code over attributes: per poll of a yielding task, and per
    # task that ends at its poll (docs/benchmarks.md, "Timers, round fourteen").
    "poll prototype native": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("yield", "native", N)
""" % os.path.join(ROOT, "bench"),
    "poll prototype viper": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("yield", "viper", N)
""" % os.path.join(ROOT, "bench"),
    "poll prototype native end": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("end", "native", N)
""" % os.path.join(ROOT, "bench"),
    "poll prototype viper end": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("end", "viper", N)
""" % os.path.join(ROOT, "bench"),
    # bench/proto_viper_spawn.py (round fifteen's study): a task's spawn, its poll to its end
    # and the take of its handle, native over attributes or viper over words, per mode.
    "spawn prototype native": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("native", N)
""" % os.path.join(ROOT, "bench"),
    "spawn prototype viper": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("viper", N)
""" % os.path.join(ROOT, "bench"),
    "spawn prototype viper2": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("viper2", N)
""" % os.path.join(ROOT, "bench"),
    "spawn prototype vipergen": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("vipergen", N)
""" % os.path.join(ROOT, "bench"),
    "spawn prototype wnative": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("wnative", N)
""" % os.path.join(ROOT, "bench"),
    "spawn prototype wviper": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("wviper", N)
""" % os.path.join(ROOT, "bench"),
    "arm+cancel": """
w = TimerWheel()
e = TimerEntry()
for i in range(N):
    w.arm_after(e, 1 + (i * 7919) % 60000)
    e.cancel()
""",
    "idle turn": """
clock = FakeClock()
timer = Timer(clock, TICK)
timer.arm_ms(TimerEntry(), 100000)
for i in range(N):
    timer.turn()
""",
    # A task spawns a batch of 100 and joins it by a loop of awaits (bench_spawn's information
    # row against create_task+gather, and its row against the floor).
    "spawn+join": """
s = StaticScheduler(101)
async def trivial():
    return None
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = s.spawn(trivial())
        for i in range(100):
            await hs[i]
s.run_until_complete(driver())
""",
    # A task spawns one task and awaits its handle at once: every join parks and is woken
    # (the join's own path: JoinHandle.__next__ twice, the joiners list, the wake).
    "spawn+join one": """
s = StaticScheduler(2)
async def trivial():
    return None
async def driver():
    for _ in range(N):
        await s.spawn(trivial())
s.run_until_complete(driver())
""",
    # "spawn+join" with the batch joined by join_all (asyncio's gather for handles), which
    # takes a handle whose task returned None without awaiting it. The spawn+join goal
    # (3x create_task+gather) compares this one with "asyncio create_task+gather": like
    # with like.
    "spawn+join_all": """
from shimeji import join_all
s = StaticScheduler(101)
async def trivial():
    return None
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = s.spawn(trivial())
        await join_all(*hs)
s.run_until_complete(driver())
""",
    # "spawn+join_all" with a Trace attached: a traced spawn (SPAWN, the name table, the
    # task id's word) and completion (COMPLETE) besides the traced polls.
    "spawn+join_all traced": """
from shimeji import Trace, join_all
s = StaticScheduler(101)
Trace(512).attach(s)
async def trivial():
    return None
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = s.spawn(trivial())
        await join_all(*hs)
s.run_until_complete(driver())
""",
    # One task reads a loopback socket: a byte is written, the run loop's zero poll wakes
    # the task, it reads the byte and waits again (wait, poll, dispatch, wake, resume).
    "io wait": """
from shimeji import RunLoop, wait_readable
from shimeji.io.sockets import connect_nonblocking, listen, stream_socket
srv, port = listen("127.0.0.1", 0, 1)
a = stream_socket(connect_nonblocking("127.0.0.1", port))
while True:
    try:
        b = stream_socket(srv.accept()[0])
        break
    except OSError:
        pass
s = StaticScheduler(4, timer=Timer())
loop = RunLoop(s)
buf = bytearray(8)
got = [0]
async def reader():
    while True:
        await wait_readable(b)
        got[0] += b.readinto(buf)
s.spawn(reader())
loop.step()
for i in range(N):
    a.write(b"x")
    while got[0] <= i:
        loop.poll_io()
        loop.tick()
""",
    # The trace bench's switch: 100 tasks yielding under FIFO, untraced and traced (N switches).
    "switch": """
from shimeji import yield_now
s = StaticScheduler(100)
async def spinner():
    while True:
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    # The same switch under the timed policies (a fake clock: every poll is charged 0 µs).
    "switch rr": """
from shimeji import RoundRobinPolicy, yield_now
clock = FakeClock()
s = StaticScheduler(100, policy=RoundRobinPolicy(), clock_us=clock)
async def spinner():
    while True:
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    "switch cfs": """
from shimeji import CfsPolicy, yield_now
clock = FakeClock()
s = StaticScheduler(100, policy=CfsPolicy(), clock_us=clock)
async def spinner():
    while True:
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    "switch priority": """
from shimeji import PriorityPolicy, yield_now
clock = FakeClock()
s = StaticScheduler(100, policy=PriorityPolicy(slice_us=1000), clock_us=clock)
async def spinner():
    while True:
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    "switch traced": """
from shimeji import Trace, yield_now
s = StaticScheduler(100)
Trace(512).attach(s)
async def spinner():
    while True:
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    # The wake latency path: the task writes a byte to its own socket's peer and waits for
    # it; nothing is runnable, so the run loop idles in poll, which returns at once: poll,
    # dispatch, wake, the loop's return from the idle, the tick, the task.
    "io idle wake": """
from shimeji import RunLoop, wait_readable
from shimeji.io.sockets import connect_nonblocking, listen, stream_socket
srv, port = listen("127.0.0.1", 0, 1)
a = stream_socket(connect_nonblocking("127.0.0.1", port))
while True:
    try:
        b = stream_socket(srv.accept()[0])
        break
    except OSError:
        pass
s = StaticScheduler(4, timer=Timer())
buf = bytearray(8)
async def reader():
    for _ in range(N):
        a.write(b"x")
        await wait_readable(b)
        b.readinto(buf)
RunLoop(s).run(s.spawn(reader()))
""",
    # bench_critical's round on a board's section: WaitCell.wake + the tick that runs the
    # waiter, the cell and the scheduler on an IrqCriticalSection over two C built-ins (the
    # unix port has no disable_irq; the methods around the calls are what is measured).
    "irq wake round": """
import gc
from shimeji import IrqCriticalSection, WaitCell
class M:
    disable_irq = gc.isenabled
    enable_irq = bool
cs = IrqCriticalSection(M)
s = StaticScheduler(2, critical_section=cs)
cell = WaitCell(cs)
async def waiter():
    while True:
        await cell.wait()
s.spawn_detached(waiter())
s.tick()
wake = cell.wake
tick = s.tick
for _ in range(N):
    wake()
    tick()
""",
    # The interrupt level's round: WaitCell.wake on an InterruptScheduler's task queues the
    # level's micropython.schedule callback, which polls the waiter at the loop's next
    # backward jump (a VM check point) and parks it again.
    "isr wake round": """
from shimeji import InterruptScheduler, WaitCell
isr = InterruptScheduler(2)
cell = WaitCell()
async def waiter():
    while True:
        await cell.wait()
isr.spawn(waiter())
for _ in range(2):
    pass
wake = cell.wake
for _ in range(N):
    wake()
""",
    # The same through the streams, as bench_io's wake latency reads: Stream.read(1), and
    # MicroPython's asyncio's StreamReader.read(1) on the same sockets.
    # A round of the primitives' wake paths (each wakes one parked task; thread section).
    "sync wake round": """
from shimeji import Channel, Event, LockCriticalSection, Semaphore, WaitQueue
cs = LockCriticalSection()
s = StaticScheduler(8, critical_section=cs)
ev, q, sem, ch = Event(cs), WaitQueue(cs), Semaphore(0, cs), Channel(2, cs)
async def on_event():
    while True:
        await ev.wait()
        ev.clear()
async def on_queue():
    while True:
        await q.wait()
async def on_sem():
    while True:
        await sem.acquire(1)
async def on_chan():
    while True:
        await ch.recv()
for t in (on_event(), on_queue(), on_sem(), on_chan()):
    s.spawn_detached(t)
s.tick()
tick = s.tick
for _ in range(N):
    ev.set()
    q.wake()
    sem.release(1)
    ch.try_send(None)
    tick()
""",
    "stream idle wake": """
from shimeji import RunLoop, Stream
from shimeji.io.sockets import connect_nonblocking, listen, stream_socket
srv, port = listen("127.0.0.1", 0, 1)
a = stream_socket(connect_nonblocking("127.0.0.1", port))
while True:
    try:
        b = stream_socket(srv.accept()[0])
        break
    except OSError:
        pass
s = StaticScheduler(4, timer=Timer())
async def reader():
    r = Stream(b)
    for _ in range(N):
        a.write(b"x")
        await r.read(1)
RunLoop(s).run(s.spawn(reader()))
""",
    "asyncio stream idle wake": """
import asyncio
from shimeji.io.sockets import connect_nonblocking, listen, stream_socket
srv, port = listen("127.0.0.1", 0, 1)
a = stream_socket(connect_nonblocking("127.0.0.1", port))
while True:
    try:
        b = stream_socket(srv.accept()[0])
        break
    except OSError:
        pass
async def reader():
    r = asyncio.StreamReader(b)
    for _ in range(N):
        a.write(b"x")
        await r.read(1)
asyncio.run(reader())
""",
    "spawn detached in task": """
from shimeji import yield_now
s = StaticScheduler(101)
async def trivial():
    return None
async def driver():
    for _ in range(N // 100):
        for i in range(100):
            s.spawn_detached(trivial())
        await yield_now()
s.run_until_complete(driver())
""",
    # bench_spawn.run_shimeji (the round-one "spawn" row): spawn_detached x100 from outside
    # any task, then tick until the batch has run.
    "spawn detached+tick": """
s = StaticScheduler(100)
async def trivial():
    return None
for _ in range(N // 100):
    for i in range(100):
        s.spawn_detached(trivial())
    while s.tick().polled:
        pass
""",
    "facade create_task+gather": """
import shimeji.asyncio as aio
async def trivial():
    return None
async def main():
    for _ in range(N // 100):
        await aio.gather(*[aio.create_task(trivial()) for _ in range(100)])
aio.run(main())
""",
    # The facade's task switch: 100 asyncio tasks x await asyncio.sleep(0) (N switches).
    "facade switch": """
import shimeji.asyncio as aio
async def spinner(k):
    for _ in range(k):
        await aio.sleep(0)
async def main():
    await aio.gather(*[aio.create_task(spinner(N // 100)) for _ in range(100)])
aio.run(main())
""",
    # The facade's sleep_ms: 100 asyncio tasks sleeping 1-3 ms on a FakeClock timer, the
    # clock moving 250 us per loop round (turn + tick), as "sleeps" does for shimeji's.
    "facade sleep_ms": """
import shimeji.asyncio as aio
from shimeji.asyncio.facadesched import FacadeScheduler
clock = FakeClock()
timer = Timer(clock, TICK)
s = FacadeScheduler(aio.get_event_loop(), 100, timer)
fired = [0]
async def sleeper(ms):
    while True:
        await aio.sleep_ms(ms)
        fired[0] += 1
for i in range(100):
    c = sleeper(1 + i % 3)
    s.spawn_task(aio.Task(c), c)
while fired[0] < N:
    timer.turn()
    s.tick()
    clock.advance_us(250)
""",
    # The reference of the spawn+join goal: against "spawn+join_all".
    "asyncio create_task+gather": """
import asyncio
async def trivial():
    return None
async def main():
    for _ in range(N // 100):
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(100)])
asyncio.run(main())
""",
    # A preemption check per poll (preempt_due: the policy's should_yield) under the timed
    # policies, 100 tasks (N polls).
    "preempt_due cfs": """
from shimeji import CfsPolicy, preempt_due, yield_now
clock = FakeClock()
s = StaticScheduler(100, policy=CfsPolicy(), clock_us=clock)
async def spinner():
    while True:
        preempt_due()
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    "preempt_due priority": """
from shimeji import PriorityPolicy, preempt_due, yield_now
clock = FakeClock()
s = StaticScheduler(100, policy=PriorityPolicy(slice_us=1000), clock_us=clock)
async def spinner():
    while True:
        preempt_due()
        await yield_now()
for _ in range(100):
    s.spawn_detached(spinner())
for _ in range(N // 100):
    s.tick(100)
""",
    # A tick's fixed cost: one task that yields, one tick(1) per operation (the switch's own
    # cost is "switch"); with asyncio imported the shield has asyncio's globals to swap.
    "tick one": """
from shimeji import yield_now
s = StaticScheduler(2)
async def spinner():
    while True:
        await yield_now()
s.spawn_detached(spinner())
tick = s.tick
for _ in range(N):
    tick(1)
""",
    "tick one asyncio": """
import asyncio
from shimeji import yield_now
s = StaticScheduler(2)
async def spinner():
    while True:
        await yield_now()
s.spawn_detached(spinner())
tick = s.tick
for _ in range(N):
    tick(1)
""",
    # RunLoop.step() with nothing runnable and nothing due (a far entry armed), a no-op idle:
    # the trip round the loop that an idle ends, as a loop written from the steps pays it.
    "step empty": """
from shimeji import RunLoop
timer = Timer(FakeClock(), TICK)
timer.arm_ms(TimerEntry(), 100000)
s = StaticScheduler(4, timer=timer)
def idle(us):
    pass
step = RunLoop(s, idle=idle, max_idle_us=None).step
for _ in range(N):
    step()
""",
    # "tickless" with one sleeper (sleep_ms(1)): each fired timer pays a whole trip round
    # run()'s loop (tick, turn, idle, turn), none shared with other sleepers.
    "tickless one": """
from shimeji import RunLoop
class Moving:
    def __init__(self):
        self.t = 0
    def read(self):
        t = self.t
        self.t = (t + 2) & 0x3FFFFFFF
        return t
    def idle(self, us):
        self.t = (self.t + us) & 0x3FFFFFFF
clock = Moving()
timer = Timer(clock.read, 1)
s = StaticScheduler(2, timer=timer)
fired = [0]
async def sleeper():
    while fired[0] < N:
        await sleep_ms(1)
        fired[0] += 1
RunLoop(s, idle=clock.idle, max_idle_us=None).run(s.spawn(sleeper()))
""",
    # "tick one" with a Trace attached: the traced FIFO tick's fixed cost per tick (the
    # native shell, its set-up and the ring's restart; the switch itself is "switch traced").
    "tick one traced": """
from shimeji import Trace, yield_now
s = StaticScheduler(2)
Trace(512).attach(s)
async def spinner():
    while True:
        await yield_now()
s.spawn_detached(spinner())
tick = s.tick
for _ in range(N):
    tick(1)
""",
    "tick empty": """
s = StaticScheduler(2)
tick = s.tick
for _ in range(N):
    tick()
""",
    # bench_spawn's detached batches as the STM32 runs them: 20 per batch, asyncio imported.
    "spawn detached 20": """
import asyncio
s = StaticScheduler(20)
async def trivial():
    return None
for _ in range(N // 20):
    for i in range(20):
        s.spawn_detached(trivial())
    while s.tick().polled:
        pass
""",
    "floor: create+exhaust": """
async def trivial():
    return None
for _ in range(N):
    c = trivial()
    try:
        c.send(None)
    except StopIteration:
        pass
""",
}


# The runtime helpers ``--calls`` counts: attribute loads and stores, method look-ups,
# subscripts (loads and stores), binary and unary operations on objects (in native and viper
# code an ``is`` between objects is one of these too), and truth tests of objects.
RUNTIME_CALLS = ("mp_load_attr", "mp_store_attr", "mp_load_method", "mp_obj_subscr",
                 "mp_binary_op", "mp_unary_op", "mp_obj_is_true")


def calls_to(lines, names):
    """{name: calls} summed over a callgrind output file's ``calls=`` lines to each function
    in ``names`` (names as callgrind prints them, compressed ``(id)`` references resolved)."""
    ids = {}
    total = dict.fromkeys(names, 0)
    callee = None
    for line in lines:
        if line.startswith(("fn=", "cfn=")):
            key, _, rest = line.partition("=")
            m = re.match(r"\((\d+)\)(?: (.*))?", rest.strip())
            if m:
                if m.group(2):
                    ids[m.group(1)] = m.group(2)
                name = ids.get(m.group(1), "")
            else:
                name = rest.strip()
            callee = name if key == "cfn" else None
        elif line.startswith("calls=") and callee in total:
            total[callee] += int(line[6:].split()[0])
    return total


def layout_prefix(k):
    """Source that interns ``k`` names before shimeji loads (a function never called): every
    later qstr is renumbered, as by an unrelated change, which moves look-ups in and out of
    MicroPython's map look-up cache (``--layouts``)."""
    if not k:
        return ""
    return "def _layout():\n    return (%s)\n" % ", ".join("_lay%d" % i for i in range(k))


def count(mp, firmware, code, n, tick, calls=None, layout=0):
    """(instructions, operations) of one run of ``code`` with ``n``: the operations are what
    the program printed as ``FIRED <count>`` (the timers it actually fired), else ``n``; with
    ``calls`` (a dict), also the calls to each of ``RUNTIME_CALLS``, stored in it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.py")
        with open(path, "w") as f:
            f.write(layout_prefix(layout) + PRELUDE + "TICK = %d\n" % tick + code)
        out = os.path.join(tmp, "cg.out")
        # PYTHONHASHSEED: the unix port here is a CPython extension run by a CPython script,
        # and CPython's randomised string hashes moved its dict work between the N and 2N
        # runs by +-100 instructions per operation (a switch: 3,120 or 3,248 for one tree)
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", firmware]),
                   PYTHONHASHSEED="0")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                               mp, "-X", "heapsize=32M", path, str(n)], env=env,
                              capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", proc.stderr)
        if not m:
            raise RuntimeError(proc.stderr[-2000:])
        if calls is not None:
            with open(out, errors="replace") as f:
                calls.update(calls_to(f, RUNTIME_CALLS))
        return int(m.group(1)), operations(proc.stdout, n)


def operations(stdout, n):
    """The operations a run counted: its ``FIRED <count>`` line's (the timers it fired), else
    ``n`` (the workloads whose loop runs exactly ``n`` operations)."""
    fired = re.search(r"^FIRED (\d+)$", stdout, re.M)
    return int(fired.group(1)) if fired else n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--firmware", default=os.path.join(ROOT, "firmware"))
    ap.add_argument("--only")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--tick-us", type=int, default=1000)
    ap.add_argument("--gc-off", action="store_true",
                    help="gc.disable() first: a collection of the 32 MB heap (tens of millions "
                         "of instructions) falls in the N or the 2N run depending on a few bytes "
                         "more or less, which moves allocating workloads by ~1k per operation")
    ap.add_argument("--calls", action="store_true",
                    help="also print the runtime helper calls per operation (RUNTIME_CALLS)")
    ap.add_argument("--layouts", default="0",
                    help="qstr layouts to measure each workload on, comma-separated: N names "
                         "interned before shimeji loads (e.g. 0,5,17,40); prints each and "
                         "their mean (a change's effect apart from the look-up cache's)")
    args = ap.parse_args(argv)
    layouts = [int(k) for k in args.layouts.split(",")]
    names = args.only.split(",") if args.only else list(WORKLOADS)
    means = {}
    for name in names:
        code = WORKLOADS[name]
        if args.gc_off:
            code = "import gc\ngc.disable()\n" + code
        per = []
        ops = []
        for layout in layouts:
            ca = {} if args.calls else None
            cb = {} if args.calls else None
            a, na = count(args.micropython, args.firmware, code, args.n, args.tick_us, ca,
                          layout)
            b, nb = count(args.micropython, args.firmware, code, 2 * args.n, args.tick_us, cb,
                          layout)
            per.append((b - a) / (nb - na))
            ops.append(nb - na)
        means[name] = sum(per) / len(per)
        what = "operation"
        if "FIRED" in code:  # divided by the timers fired, not by N (counted: per layout)
            what = "fired timer (%s fired for N)" % "/".join("%d" % o for o in ops)
        if len(layouts) == 1:
            print("%-24s %10.0f instructions per %s" % (name, per[0], what), flush=True)
        else:
            print("%-24s %10.0f instructions per %s (mean; layouts %s: %s)" % (
                name, means[name], what, args.layouts,
                " / ".join("%.0f" % v for v in per)), flush=True)
        if args.calls:  # (of the last layout)
            print("    calls per operation: " + ", ".join(
                "%s %.1f" % (k, (cb[k] - ca[k]) / (nb - na)) for k in RUNTIME_CALLS),
                flush=True)
    for ours, theirs in RATIOS:
        if ours in means and theirs in means:
            print("%s / %s: %.3f" % (ours, theirs, means[ours] / means[theirs]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
