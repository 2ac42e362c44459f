# Scheduling policies in one screen: fixed priorities with a preemption point, CFS shares,
# and the hog report. Uses the real µs clock, so the numbers vary from run to run.
# Run: make example NAME=policies  (RUNTIME=cpython for CPython)
from shimeji import (
    CfsPolicy,
    PriorityPolicy,
    StaticScheduler,
    core,
    port,
    preempt_point,
    yield_now,
)


def busy_us(us):
    t0 = port.ticks_us()
    while port.ticks_diff(port.ticks_us(), t0) < us:
        pass


class Flag:
    """``await flag`` parks until ``flag.set()`` (which an interrupt handler may call)."""

    def __init__(self):
        self.is_set = False
        self.slot = None
        self._finish = core.Finish()  # ends the await without allocating

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.is_set:
            self.is_set = False
            raise self._finish.done()
        self.slot = core.current_slot()
        return core.PARK

    def set(self):
        self.is_set = True
        if self.slot is not None:
            core.wake(self.slot)


async def crunch(log, irq):
    for i in range(4):
        busy_us(300)  # one step of a long computation
        log.append("crunch %d" % i)
        if i == 1:
            irq.set()  # stands in for an interrupt that wakes the motor task
        await preempt_point()  # yields only when a more urgent task is ready


async def motor(log, irq):
    await irq
    log.append("motor")


def priorities():
    sched = StaticScheduler(4, policy=PriorityPolicy(levels=4, default=1))
    log = []
    irq = Flag()
    sched.build_task().name("motor").priority(3).spawn(motor(log, irq))
    sched.spawn(crunch(log, irq), "crunch")
    while sched.tick().has_remaining:
        pass
    print("priority order:", log)


async def spinner(counts, i):
    while True:
        busy_us(100)
        counts[i] += 1
        await yield_now()


def fair_shares():
    sched = StaticScheduler(4, policy=CfsPolicy(hog_us=5000))
    counts = [0, 0]
    a = sched.spawn(spinner(counts, 0), "nice0")
    b = sched.build_task().name("nice5").priority(5).spawn(spinner(counts, 1))
    for _ in range(20):
        sched.tick(100)
    print("CFS polls, nice 0 : nice 5 = %d : %d (weights 1024 : 335)" % tuple(counts))
    for row in sched.policy.stats.report(sched):
        print("  task %d %-6s polls=%d total=%dus longest=%dus hogs=%d" % row)
    a.cancel()
    b.cancel()
    sched.tick()


priorities()
fair_shares()
