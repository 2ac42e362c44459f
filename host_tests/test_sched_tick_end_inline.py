# The FIFO tick (sched/wordtick.py) fills its Tick in line when no wakes or spawns are counted
# under the section (end_tick's common case): the same figures as end_tick, the completions
# added to completed_total across 2**30, the timer's wakes counted once, bools for
# has_remaining. A tick with spawns still goes through end_tick. The run loop's lean tick
# (tick_lean) answers whether tasks remain and fills no Tick.
from shimeji import FakeClock, StaticScheduler, Timer, sleep_ms, yield_now
from shimeji.core import wrap_count

_MASK = (1 << 30) - 1


async def _yields(k):
    for _ in range(k):
        await yield_now()


def _fields(t):
    return (t.polled, t.completed, t.spawned, t.woken_external, t.woken_internal, t.woken,
            t.has_remaining)


def test_polls_and_completions_fill_the_tick():
    s = StaticScheduler(8)
    for k in (1, 2, 3):
        s.spawn(_yields(k))
    first = s.tick(3)  # (spawns to count: end_tick's way)
    assert _fields(first) == (3, 0, 3, 0, 0, 0, True)
    t = s.tick(3)  # each polled once more: the first ends
    assert _fields(t) == (3, 1, 0, 0, 0, 0, True)
    assert type(t.has_remaining) is bool
    assert s.completed_total == 1 and s.spawned_total == 3
    t = s.tick()  # the other two end
    assert _fields(t) == (3, 2, 0, 0, 0, 0, False)
    assert type(t.has_remaining) is bool
    assert s.completed_total == 3
    assert _fields(s.tick()) == (0, 0, 0, 0, 0, 0, False)


def test_completed_total_wraps_below_2_to_the_30():
    for start in (_MASK - 3, _MASK - 2, _MASK - 1, _MASK):
        s = StaticScheduler(8)
        for _ in range(3):
            s.spawn(_yields(1))
        s.tick(3)  # (the spawns' tick)
        s.completed_total = start
        t = s.tick()
        assert t.completed == 3
        assert s.completed_total == wrap_count(start, 3)
        assert 0 <= s.completed_total <= _MASK


def test_timer_wakes_count_once_as_external():
    clock = FakeClock()
    timer = Timer(clock)
    s = StaticScheduler(8, timer=timer)
    woke = []

    async def sleeper(i):
        await sleep_ms(2)
        woke.append(i)
        await yield_now()

    for i in range(4):
        s.spawn(sleeper(i))
    s.tick()  # all four park on the timer
    clock.advance_us(2000)
    assert timer.turn().expired == 4
    t = s.tick(2)
    assert _fields(t) == (2, 0, 0, 4, 0, 4, True)
    t = s.tick(2)  # the wakes were counted by the tick before
    assert _fields(t) == (2, 0, 0, 0, 0, 0, True)
    assert sorted(woke) == [0, 1, 2, 3]


def test_the_run_loops_lean_tick_answers_whether_tasks_remain_and_leaves_the_tick():
    from shimeji.sched import wordtick

    if wordtick.tick_lean is None:  # (a port without a GIL ticks with fastpath's tick_fifo)
        assert wordtick.tick_fifo is not None
        return
    s = StaticScheduler(8)
    for k in (0, 1):
        s.spawn(_yields(k))
    before = _fields(s.tick(0))  # (the spawns counted, nothing polled)
    assert wordtick.tick_lean(s, 2) is True  # both polled once, the first ended
    assert _fields(s._tick) == before  # no Tick written
    assert s.completed_total == 1
    s.completed_total = _MASK
    assert wordtick.tick_lean(s, 8) is False  # the second ended: nothing remains
    assert s.completed_total == wrap_count(_MASK, 1)
    assert wordtick.tick_lean(s, 8) is False  # nothing to poll (end_tick's way: end_lean)
    s.spawn(_yields(1))  # a spawn to count: end_tick's way, whose answer it returns
    assert wordtick.tick_lean(s, 8) is False and s.spawned_total == 3
