"""tools/instr.py's wake workloads: I/O waits on loopback sockets (bare, streams, asyncio's
streams), WaitCell wakes on an interrupt section and level, the primitives' wakes."""

WORKLOADS = {
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
    # The same through the streams, as bench_io's wake latency reads: Stream.read(1), and
    # MicroPython's asyncio's StreamReader.read(1) on the same sockets.
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
}
