"""tools/instr.py's executor workloads: bench_executor's chunk, a task's whole life and
the switch, on one and two workers and without the executor."""

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


WORKLOADS = {
    # The executor bench's chunk (bench/bench_executor.py): 64 tasks, N // 64 chunks each,
    # yield_now() between; the difference of the N and 2N runs is a chunk's steady cost on
    # the worker loop (threads run one at a time under valgrind: no contention counted).
    "executor chunk 1w": EXECUTOR_CHUNK % 1,
    "executor chunk 2w": EXECUTOR_CHUNK % 2,
    # the executor bench's bare_throughput (bench/executor_rounds.py) on one thread: the chunk
    # as a plain generator resumed by ``next``, no executor (what the workers' chunks cost
    # beyond it is theirs).
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
}
