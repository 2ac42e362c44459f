# join_all's common end: handles whose tasks returned None, collected by one walk. When one of
# them is still running, the awaiting task yields once first (the runnable tasks run), then
# walks again; a handle that is not finished after that is joined as before. Finished handles
# are collected with no yield at all; misuse still raises BadArgument before any await. Both
# runtimes.
from shimeji import BadArgument, StaticScheduler, join_all, yield_now
from support import raises


async def note(log, name, value=None):
    log.append(name)
    return value


async def slow(log, name, rounds, value=None):
    for _ in range(rounds):
        await yield_now()
    log.append(name)
    return value


def test_a_batch_that_ends_in_its_first_polls_is_collected_after_one_yield():
    s = StaticScheduler(12)
    log = []

    async def driver():
        hs = [s.spawn(note(log, i)) for i in range(10)]
        log.append("join")
        got = await join_all(*hs)
        log.append("back")
        return got, [h.is_complete() for h in hs]

    h = s.spawn(driver())
    woken = 0  # wakes counted by the ticks: a joiner woken by a completion is one
    remaining = True
    while remaining:
        t = s.tick()
        woken += t.woken
        remaining = t.has_remaining
    got, done = h.result()
    assert got == [None] * 10 and all(done)
    assert log == ["join"] + list(range(10)) + ["back"]
    assert woken == 0  # no handle was awaited: the driver yielded, then collected
    assert s.free_count() == 12


def test_finished_handles_are_collected_without_a_yield():
    s = StaticScheduler(6)
    log = []

    async def driver():
        hs = [s.spawn(note(log, i)) for i in range(3)]
        await yield_now()  # they finish
        s.spawn(note(log, "witness"))  # runs at this task's next yield, not before
        got = await join_all(*hs)
        log.append("back")
        await yield_now()
        return got

    assert s.run_until_complete(driver()) == [None] * 3
    assert log == [0, 1, 2, "back", "witness"]


def test_tasks_that_need_more_rounds_and_values_are_joined_in_order():
    s = StaticScheduler(8)
    log = []

    async def driver():
        hs = [s.spawn(note(log, "a")), s.spawn(slow(log, "b", 3, "vb")),
              s.spawn(note(log, "c", "vc")), s.spawn(slow(log, "d", 1))]
        return await join_all(*hs)

    assert s.run_until_complete(driver()) == [None, "vb", "vc", None]
    assert sorted(log) == ["a", "b", "c", "d"]
    assert s.free_count() == 8


def test_a_bad_argument_is_refused_after_the_yield_before_any_await():
    s = StaticScheduler(6)
    log = []

    async def driver():
        hs = [s.spawn(note(log, i)) for i in range(2)]
        c = note(log, "never")
        try:
            with raises(BadArgument, "argument 3"):
                await join_all(hs[0], hs[1], c)
        finally:
            c.close()
        return await join_all(*hs)

    assert s.run_until_complete(driver()) == [None, None]
    assert log == [0, 1]
