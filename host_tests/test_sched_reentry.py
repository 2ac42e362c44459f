# Driving a scheduler from inside one of its own tasks, or another scheduler's.
from shimeji import SchedulerBusy, StaticScheduler, core, current_task, yield_now
from shimeji.policy.fifo import FifoPolicy


def _nested_tick(policy):
    s = StaticScheduler(4, policy=policy)
    log = []

    async def other(tag):
        log.append(tag)
        await yield_now()
        log.append(tag + "!")

    async def bad():
        s.spawn(other("b"))
        try:
            s.tick()
        except SchedulerBusy:
            log.append("busy")
        never = other("never")
        try:
            s.run_until_complete(never)
        except SchedulerBusy:
            log.append("busy")
            never.close()  # not spawned: still ours
        await yield_now()
        log.append("bad %s" % (current_task().name,))

    s.spawn(other("a"))
    s.spawn(bad(), "bad")
    while s.tick().has_remaining:
        pass
    assert s.tasks() == []
    return log


def test_tick_from_inside_a_task_raises_and_changes_nothing():
    expected = ["a", "busy", "busy", "a!", "b", "bad bad", "b!"]
    assert _nested_tick(None) == expected  # the FIFO fast path
    assert _nested_tick(FifoPolicy(measure=True)) == expected  # the general path


def test_a_task_may_drive_another_scheduler():
    outer = StaticScheduler(2)
    inner = StaticScheduler(2)
    log = []

    async def job():
        log.append("inner job")
        await yield_now()
        return 7

    async def driver():
        h = inner.spawn(job())
        while inner.tick().has_remaining:
            pass
        log.append(h.result())
        log.append(core.current_slot().name)  # still this task's context
        await yield_now()
        log.append(current_task().name)

    outer.spawn(driver(), "driver")
    while outer.tick().has_remaining:
        pass
    assert log == ["inner job", 7, "driver", "driver"]
