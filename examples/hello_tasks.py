# The task model in one screen: a pool of slots, spawn, tick, join.
# Run: make example NAME=hello_tasks  (RUNTIME=cpython for CPython), or paste it into a REPL
# with shimeji installed (docs/repl.md).
from shimeji import StaticScheduler, current_task, yield_now


async def worker(steps):
    me = current_task()
    for i in range(steps):
        print("  %s step %d" % (me.name, i))
        await yield_now()  # let the others run
    return me.name + " done"


async def flaky():
    await yield_now()
    raise ValueError("sensor unplugged")


async def main(sched):
    a = sched.spawn(worker(2), "motor")
    b = sched.spawn(worker(3), "logger")
    bad = sched.spawn(flaky(), "flaky")
    print(await a)
    print(await b)
    try:
        await bad
    except ValueError as e:
        print("flaky failed, scheduler unharmed:", e)
    return "all joined"


sched = StaticScheduler(capacity=8)
print(sched.run_until_complete(main(sched)))
t = sched.tick()
print("idle tick:", t)
print("slots free: %d of %d" % (sched.free_count(), sched.capacity))
