# The rules between the thread level and the interrupt level (shimeji.sched.interrupt): the
# level is never ticked by hand, tasks neither spawn nor join across levels, the interrupted
# task keeps its context, and a thread-level wake runs the level before the waker goes on.
from gate import Gate
from levelhelp import settle, waiter
from shimeji import (
    Event,
    InterruptScheduler,
    StaticScheduler,
    WaitCell,
    WrongLevel,
    current_task,
    yield_now,
)
from support import IS_MICROPYTHON, raises


def test_ticking_it_by_hand_is_refused():
    isr = InterruptScheduler(2)
    with raises(WrongLevel, "wake its tasks"):
        isr.tick()


def test_thread_level_tasks_cannot_spawn_or_join_across_levels():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    cell = WaitCell()
    log = []
    ih = isr.spawn(waiter(cell, log, "i"), "i")
    settle()

    async def short():
        await yield_now()

    async def thread_task():
        coro = short()
        try:
            isr.spawn(coro)
        except WrongLevel as e:
            coro.close()
            log.append(("spawn", "spawn its tasks" in str(e)))
        try:
            await ih
        except WrongLevel as e:
            log.append(("join", "another level" in str(e)))
        return "ok"

    assert sched.run_until_complete(thread_task()) == "ok"
    assert log == [("spawn", True), ("join", True)]
    th = sched.spawn(short(), "t")

    async def interrupt_task():
        coro = short()
        try:
            sched.spawn(coro)
        except WrongLevel as e:
            coro.close()
            log.append(("interrupt spawn refused", "Channel or Event" in str(e)))
        try:
            await th
        except WrongLevel:
            log.append("interrupt join refused")
        for call in (th.cancel, sched.close, sched.tick, lambda: sched.set_priority(th, 1)):
            try:
                call()
            except WrongLevel:
                log.append("refused")

    isr.spawn(interrupt_task())
    settle()
    assert log[-6:] == [("interrupt spawn refused", True), "interrupt join refused"] + [
        "refused"] * 4
    cell.wake()
    settle()
    assert log[-1] == ("i", "i") and ih.result() is None
    sched.tick()
    assert sched.tasks() == [] and isr.tasks() == [] and th.result() is None

    async def thread_cancels(h):  # the other way round is allowed: it takes the section
        return h.cancel()

    ih2 = isr.spawn(waiter(cell, log, "i2"), "i2")
    settle()
    assert sched.run_until_complete(thread_cancels(ih2)) is True
    settle()
    assert ih2.is_cancelled() and isr.tasks() == []


def test_context_of_the_interrupted_task_is_kept():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    ev = Event()
    log = []

    async def urgent():
        await ev.wait()
        log.append(("urgent", current_task().name))

    async def worker():
        log.append(("start", current_task().name))
        ev.set()  # wakes the interrupt level from inside this poll
        n = 0
        for i in range(2000):  # never yields: check points only
            n += i
        log.append(("end", current_task().name))
        await yield_now()
        log.append(("after", current_task().name))

    isr.spawn(urgent(), "urgent")
    settle()
    h = sched.spawn(worker(), "worker")
    while not h.is_complete():
        sched.tick()
    if IS_MICROPYTHON:  # preempted at a check point inside the poll
        assert log == [("start", "worker"), ("urgent", "urgent"), ("end", "worker"),
                       ("after", "worker")]
    else:  # the stand-in runs it between polls
        assert log == [("start", "worker"), ("end", "worker"), ("urgent", "urgent"),
                       ("after", "worker")]


def test_a_thread_level_wake_runs_the_level_before_the_waker_goes_on():
    # Check points are backward jumps and branches of bytecode (the loop below); the
    # scheduler's native fast path has none, and on CPython the stand-in runs the callback
    # when the poll ends: either way before the worker's next round.
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    g = Gate()
    log = []

    async def urgent():
        await g
        log.append("urgent")

    async def worker():
        for i in range(2):
            log.append(("worker", i))
            if i == 0:
                g.open()
            await yield_now()

    isr.spawn(urgent())
    settle()
    sched.run_until_complete(worker())
    assert log == [("worker", 0), "urgent", ("worker", 1)]
