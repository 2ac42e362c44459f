# Review: priorities given to tasks spawned from inside a task.
from shimeji import CfsPolicy, PriorityPolicy, StaticScheduler, core, yield_now


def _prio_from_task(policy, value, read):
    s = StaticScheduler(4, policy=policy)
    seen = []

    async def child():
        seen.append(read(s))

    async def parent():
        h = s.build_task().name("c").priority(value).spawn(child())
        seen.append(h.name)

    s.spawn(parent())
    while s.tick().has_remaining:
        pass
    return seen


def test_priority_given_at_spawn_from_a_task_is_kept():
    def read(s):
        return core.current_slot().priority

    assert _prio_from_task(PriorityPolicy(levels=8), 6, read) == ["c", 6]
    assert _prio_from_task(CfsPolicy(), 5, read) == ["c", 5]


def test_priority_set_from_a_task_orders_the_spawned_tasks():
    s = StaticScheduler(4, policy=PriorityPolicy(levels=8))
    log = []

    async def child(tag):
        log.append(tag)

    async def parent():
        s.build_task().priority(1).spawn(child("low"))
        s.build_task().priority(7).spawn(child("high"))

    s.spawn(parent())
    while s.tick().has_remaining:
        pass
    assert log == ["high", "low"]


def test_a_task_spawned_into_a_used_slot_does_not_preempt_with_a_stale_priority():
    from shimeji import preempt_due

    s = StaticScheduler(2, policy=PriorityPolicy(levels=8))
    log = []

    async def urgent():
        log.append("urgent")

    async def child():
        log.append("child")

    async def parent():
        s.spawn(child())  # into urgent's old slot; it starts at the default, 0
        log.append(preempt_due())
        await yield_now()  # equals (none) and less urgent tasks wait: parent goes on
        log.append("parent")

    s.build_task().priority(7).spawn(urgent())
    while s.tick().has_remaining:
        pass
    s.build_task().priority(2).spawn(parent())
    while s.tick().has_remaining:
        pass
    assert log == ["urgent", False, "parent", "child"]
