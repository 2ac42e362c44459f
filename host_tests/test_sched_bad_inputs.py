# Bad inputs a new user tried on the scheduler: each raises a ShimejiError subclass whose
# message names the argument and what is expected, and the scheduler keeps working.
import shimeji
from shimeji import (
    CfsPolicy,
    FifoPolicy,
    PolicyError,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    yield_now,
)
from support import raises


async def counts(log, tag, n=2):
    for i in range(n):
        log.append((tag, i))
        await yield_now()
    return tag


def _runs(s):
    log = []
    a = s.spawn(counts(log, "a"))
    b = s.spawn(counts(log, "b"))
    for _ in range(10):
        s.tick()
    assert (a.result(), b.result()) == ("a", "b")
    return sorted(log)


EXPECTED = [("a", 0), ("a", 1), ("b", 0), ("b", 1)]


def test_every_policy_refuses_a_second_scheduler():
    for make in (FifoPolicy, RoundRobinPolicy, CfsPolicy, PriorityPolicy):
        p = make()
        first = StaticScheduler(4, policy=p)
        with raises(PolicyError, "already serves another scheduler"):
            StaticScheduler(4, policy=p)
        other = StaticScheduler(4)
        with raises(PolicyError, "one policy object per scheduler"):
            other.set_policy(p)
        assert first.policy is p and other.policy is not p
        assert _runs(first) == EXPECTED  # both still work, each with its own queue
        assert _runs(other) == EXPECTED
        first.set_policy(p)  # binding again to its own scheduler is fine


def test_policy_names_are_accepted():
    for name, cls in (("fifo", FifoPolicy), ("rr", RoundRobinPolicy),
                      ("round-robin", RoundRobinPolicy), ("cfs", CfsPolicy),
                      ("priority", PriorityPolicy)):
        s = StaticScheduler(4, policy=name)
        assert type(s.policy) is cls
        assert _runs(s) == EXPECTED
    a = StaticScheduler(2, policy="fifo")
    b = StaticScheduler(2, policy="fifo")
    assert a.policy is not b.policy  # each name makes its own policy object


def test_unknown_name_class_or_other_object_is_refused_clearly():
    with raises(PolicyError, "'fifo', 'rr', 'cfs', 'priority'") as r:
        StaticScheduler(4, policy="lifo")
    assert "lifo" in str(r.value)
    with raises(PolicyError, "pass an instance, policy=RoundRobinPolicy()"):
        StaticScheduler(4, policy=RoundRobinPolicy)
    with raises(PolicyError, "not a scheduling policy"):
        StaticScheduler(4, policy=5)
    s = StaticScheduler(4)
    with raises(PolicyError, "policy=CfsPolicy()"):
        s.set_policy(CfsPolicy)
    assert type(s.policy) is FifoPolicy
    assert _runs(s) == EXPECTED


def test_tick_refuses_a_count_that_is_not_an_int():
    for policy in ("fifo", "priority"):
        s = StaticScheduler(4, policy=policy)
        for bad in ("x", None, 1.5):
            with raises(shimeji.BadArgument, "tick(n) must be an int") as r:
                s.tick(bad)
            assert repr(bad) in str(r.value)
            assert isinstance(r.value, shimeji.ShimejiError)
        assert _runs(s) == EXPECTED
