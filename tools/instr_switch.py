"""tools/instr.py's switch workloads: a task switch under each policy, traced, through
the facade; the preemption check; a tick's fixed cost."""

WORKLOADS = {
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
}
