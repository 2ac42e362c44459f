# Primitives between the two levels, in both directions: channels, events, semaphores, wait
# queues and a mutex. An interrupt-level task that wants a lock held by a thread-level task
# parks (it never spins) and gets it when the holder releases.
from shimeji import (
    Channel,
    Event,
    InterruptScheduler,
    Mutex,
    Semaphore,
    StaticScheduler,
    WaitCell,
    WaitQueue,
    port,
    yield_now,
)
from support import IS_MICROPYTHON


def _run_both(sched, isr, handles, limit=1000):
    for _ in range(limit):
        if all(h.is_complete() for h in handles):
            break
        sched.tick()
        isr.service()
    for h in handles:
        h.result()  # re-raises a task's error
    assert isr.error is None


def test_channels_carry_items_both_ways():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    down = Channel(2)  # thread level -> interrupt level
    up = Channel(2)  # interrupt level -> thread level
    log = []

    async def echo():  # interrupt level
        for _ in range(3):
            x = await down.recv()
            log.append(("echo", x))
            await up.send(x * 10)

    async def main():  # thread level
        for x in (1, 2, 3):
            await down.send(x)
            y = await up.recv()
            log.append(("main", y))

    hi = isr.spawn(echo())
    port.check_point()
    ht = sched.spawn(main())
    _run_both(sched, isr, (hi, ht))
    assert log == [("echo", 1), ("main", 10), ("echo", 2), ("main", 20), ("echo", 3),
                   ("main", 30)]


def test_events_semaphores_and_wait_queues_both_ways():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    go = Event()
    done = Event()
    sem = Semaphore(0)
    q = WaitQueue()
    log = []

    async def fast():  # interrupt level
        await go.wait()
        log.append("fast: go")
        await sem.acquire()
        log.append("fast: permit")
        await q.wait()
        log.append("fast: woken")
        done.set()

    async def slow():  # thread level
        go.set()
        while "fast: go" not in log:  # the level runs at a check point (a branch) or between
            await yield_now()  # polls: the wait loop makes the order the same on both
        log.append("slow: release")
        sem.release()
        while q.count == 0:
            await yield_now()
        log.append(("slow: waking", q.count))
        q.wake()
        await done.wait()
        log.append("slow: done")

    hi = isr.spawn(fast())
    port.check_point()
    ht = sched.spawn(slow())
    _run_both(sched, isr, (hi, ht))
    assert log == ["fast: go", "slow: release", "fast: permit", ("slow: waking", 1),
                   "fast: woken", "slow: done"]


def test_an_interrupt_level_task_parks_on_a_lock_held_by_a_preempted_task():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    m = Mutex()
    cell = WaitCell()
    log = []

    async def urgent():  # interrupt level
        await cell.wait()
        log.append("urgent wants the lock")
        async with m:
            log.append("urgent got the lock")

    async def holder():  # thread level
        async with m:
            log.append("holder locked")
            cell.wake()
            n = 0
            for i in range(300):  # MicroPython preempts here: urgent parks on the lock
                n += i
            await yield_now()  # CPython's stand-in runs urgent here: it parks on the lock
            log.append(("holder releases", m.waiters()))
        log.append("holder done")

    hi = isr.spawn(urgent())
    port.check_point()
    ht = sched.spawn(holder())
    _run_both(sched, isr, (hi, ht))
    if IS_MICROPYTHON:  # the release wakes urgent, which runs at the next check point
        assert log == ["holder locked", "urgent wants the lock", ("holder releases", 1),
                       "urgent got the lock", "holder done"]
    else:
        assert log == ["holder locked", "urgent wants the lock", ("holder releases", 1),
                       "holder done", "urgent got the lock"]
    assert not m.locked() and isr.tasks() == [] and sched.tasks() == []


def test_a_thread_level_task_waits_for_a_lock_held_by_an_interrupt_level_task():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    m = Mutex()
    cell = WaitCell()
    log = []

    async def urgent():  # interrupt level: holds the lock across a wait
        async with m:
            log.append("urgent locked")
            await cell.wait()
            log.append("urgent releases")

    async def background():  # thread level
        log.append("background wants the lock")
        async with m:
            log.append("background got the lock")

    hi = isr.spawn(urgent())
    port.check_point()
    ht = sched.spawn(background())
    sched.tick()
    assert m.waiters() == 1
    cell.wake()
    _run_both(sched, isr, (hi, ht))
    assert log == ["urgent locked", "background wants the lock", "urgent releases",
                   "background got the lock"]
