# Task ids: they increase, wrap below 2**30 skipping the ids of live tasks, and every counter
# stays a small int across the wrap.
from shimeji import StaticScheduler
from taskhelp import drain, returns


def test_ids_wrap_and_skip_live_ids():
    s = StaticScheduler(3)
    s.spawned_total = (1 << 30) - 2  # as if a long time had passed
    s._next_id = (1 << 30) - 2
    a = s.spawn(returns(1, 5))  # id 2**30-2, still live when ids wrap
    b = s.spawn(returns(2))
    c = s.spawn(returns(3))
    assert (b.id, c.id) == ((1 << 30) - 1, 1)
    drain(s)
    assert a.result() == 1
    for h in (a, b, c):
        assert 0 < h.id < (1 << 30)


def test_ids_after_the_wrap_skip_live_ids_and_counters_stay_small():
    from gate import Gate

    s = StaticScheduler(4)
    mask = (1 << 30) - 1
    gate = Gate()

    async def long_lived():
        await gate

    s._next_id = mask - 1
    old = s.spawn(long_lived())  # id 2**30-2, still live when the ids come round
    last = s.spawn(returns(0))  # id 2**30-1, the last id
    first = s.spawn(returns(1))  # the ids wrap: 1
    assert (old.id, last.id, first.id, s.ids_wrapped) == (mask - 1, mask, 1, True)
    drain(s)
    s._next_id = mask - 1  # the ids come round to the live task's id again
    h = s.spawn(returns(2))
    assert h.id == mask  # 2**30-2 was skipped: "old" still has it
    s.spawned_total = mask - 1  # counted at a tick's end: h and the next spawn are still due
    s.completed_total = mask - 1
    s.failed_total = mask
    s.spawn(returns(3)).detach()
    assert s.spawned_total == mask - 1
    gate.open()
    drain(s)  # two spawns wrap spawned_total to 0; three completions 2**30-2 + 3 to 1
    assert (s.spawned_total, s.completed_total) == (0, 1)
    assert old.is_complete() and h.result() == 2


def test_wrap_count_never_passes_the_small_int_range():
    from shimeji.task.pool import wrap_count

    mask = (1 << 30) - 1
    assert wrap_count(mask, 1) == 0
    assert wrap_count(mask - 1, 1) == mask
    assert wrap_count(mask - 5, 10) == 4
    assert wrap_count(3, 10) == 13
