"""tools/instr.py's spawn workloads: spawn and join (one, a batch, join_all, traced),
detached spawns, the facade's and asyncio's create_task+gather, the floor."""

# Pairs instr.py prints as a ratio (asyncio's / shimeji's is 1 / this): (shimeji's, asyncio's).
RATIOS = (("spawn+join_all", "asyncio create_task+gather"),
          ("spawn detached+tick", "asyncio create_task+gather"),
          ("spawn+join", "asyncio create_task+gather"),
          ("spawn+join", "asyncio create_task+await"),
          ("spawn+join one", "asyncio await create_task"))

WORKLOADS = {
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
    # "spawn+join_all" of tasks that return a value (asyncio's gather of results): the value's
    # completion (StaticScheduler._complete) and join_all's collection. Against "asyncio
    # create_task+gather value".
    "spawn+join_all value": """
from shimeji import join_all
s = StaticScheduler(101)
async def trivial():
    return 1
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = s.spawn(trivial())
        await join_all(*hs)
s.run_until_complete(driver())
""",
    # "spawn+join one" of a task that returns a value: the joiner's wake carries it.
    "spawn+join one value": """
s = StaticScheduler(2)
async def trivial():
    return 1
async def driver():
    for _ in range(N):
        await s.spawn(trivial())
s.run_until_complete(driver())
""",
    # "spawn+join_all" with a Trace attached: a traced spawn (SPAWN, the name table, the
    # task id's word) and completion (COMPLETE) besides the traced polls.
    # "spawn+join_all" driven by RunLoop.run() on a scheduler with a Timer (README's shape: the
    # firmware's loop, leanloop.run_lean's tick) instead of run_until_complete's tick().
    "spawn+join_all runloop": """
from shimeji import RunLoop, join_all
s = StaticScheduler(101, timer=Timer())
async def trivial():
    return None
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = s.spawn(trivial())
        await join_all(*hs)
RunLoop(s).run(s.spawn(driver()))
""",
    # A task spawns one task and awaits it at once, driven by RunLoop.run() (with a Timer).
    "spawn+join one runloop": """
from shimeji import RunLoop
s = StaticScheduler(2, timer=Timer())
async def trivial():
    return None
async def driver():
    for _ in range(N):
        await s.spawn(trivial())
RunLoop(s).run(s.spawn(driver()))
""",
    # "spawn+join_all" with the module's spawn() (the calling task's own scheduler: README's
    # "from inside a task") instead of sched.spawn.
    "spawn()+join_all": """
from shimeji import join_all, spawn
s = StaticScheduler(101)
async def trivial():
    return None
async def driver():
    hs = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            hs[i] = spawn(trivial())
        await join_all(*hs)
s.run_until_complete(driver())
""",
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
    "facade create_task+gather": """
import shimeji.asyncio as aio
async def trivial():
    return None
async def main():
    for _ in range(N // 100):
        await aio.gather(*[aio.create_task(trivial()) for _ in range(100)])
aio.run(main())
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
    # bench_spawn's as_main_joined: asyncio's side of "spawn+join" from a task (README's
    # "spawn + join from inside a task" row: create_task x100, then await each task).
    "asyncio create_task+await": """
import asyncio
async def trivial():
    return None
async def main():
    ts = [None] * 100
    for _ in range(N // 100):
        for i in range(100):
            ts[i] = asyncio.create_task(trivial())
        for i in range(100):
            await ts[i]
asyncio.run(main())
""",
    # bench_spawn's as_main_at_once: asyncio's side of "spawn+join one".
    "asyncio await create_task": """
import asyncio
async def trivial():
    return None
async def main():
    for _ in range(N):
        await asyncio.create_task(trivial())
asyncio.run(main())
""",
    "asyncio create_task+gather value": """
import asyncio
async def trivial():
    return 1
async def main():
    for _ in range(N // 100):
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(100)])
asyncio.run(main())
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
