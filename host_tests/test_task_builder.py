# Review: a TaskBuilder refused for a bad priority spawns nothing.
from shimeji import BadPriority, CfsPolicy, PriorityPolicy, StaticScheduler, TaskSlot
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
    assert s.tasks() == [] and s.free_count() == 2 and own.state == 0
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
