# A TaskBuilder refused for a bad priority spawns nothing.
from shimeji import (
    BadPriority,
    CfsPolicy,
    PriorityPolicy,
    StaticScheduler,
    TaskSlot,
    core,
    yield_now,
)
from support import raises


def _refused(policy, bad):
    s = StaticScheduler(2, policy=policy)
    log = []

    async def t(tag):
        log.append(tag)

    coro = t("x")
    with raises(BadPriority):
        s.build_task().name("x").priority(bad).spawn(coro)
    own = TaskSlot()
    never = t("never")
    with raises(BadPriority):
        s.build_task().slot(own).priority(bad).spawn(never)
    never.close()
    assert s.tasks() == [] and s.free_count() == 2 and own.w[0] == 0
    h = s.spawn(coro)  # the refused coroutine is still the caller's, unstarted
    h2 = s.build_task().slot(own).spawn(t("own"))
    while s.tick().has_remaining:
        pass
    assert (h.name, h2.name) == (None, None)
    return log


def test_bad_priority_spawns_nothing():
    assert _refused(PriorityPolicy(levels=4), 4) == ["x", "own"]
    assert _refused(CfsPolicy(), 20) == ["x", "own"]


def test_set_priority_refuses_another_schedulers_task():
    from shimeji import PolicyError

    s1 = StaticScheduler(2, policy=PriorityPolicy(levels=4))
    s2 = StaticScheduler(2, policy=PriorityPolicy(levels=4))
    log = []

    async def t(tag):
        log.append(tag)

    a = s1.spawn(t("a"))
    s1.spawn(t("b"))
    s2.spawn(t("c"))
    with raises(PolicyError):
        s2.set_priority(a, 3)
    for s in (s1, s2):
        while s.tick().has_remaining:
            pass
    assert log == ["a", "b", "c"]


# priorities given to tasks spawned from inside a task.
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
