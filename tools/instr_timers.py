"""tools/instr.py's timer workloads: sleeps on a fake clock, the tickless run loop against
MicroPython's asyncio on the same moving clocks (``RATIOS``), the wheel's arm and turn."""

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
}
