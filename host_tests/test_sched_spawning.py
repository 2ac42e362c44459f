# shimeji.spawn (on the calling task's scheduler), join_all, sleep(seconds) and the grow mode.
import shimeji
from shimeji import (
    NoCurrentTask,
    PoolFull,
    StaticScheduler,
    Timer,
    join_all,
    sleep,
    spawn,
    yield_now,
)
from support import raises


def test_spawn_uses_the_current_tasks_scheduler_and_join_all_collects():
    s = StaticScheduler(8)
    log = []

    async def child(i):
        await yield_now()
        log.append(i)
        if i == 2:
            raise ValueError(i)
        return i * 10

    async def parent():
        hs = [spawn(child(i), "c%d" % i) for i in range(3)]
        assert all(h.name == "c%d" % i for i, h in enumerate(hs))
        with_errors = await join_all(*hs, return_exceptions=True)
        try:
            await join_all(spawn(child(0)), spawn(child(2)))
        except ValueError as e:
            return with_errors[:2], type(with_errors[2]).__name__, e.args

    assert s.run_until_complete(parent()) == ([0, 10], "ValueError", (2,))
    assert log == [0, 1, 2, 0, 2]
    c = child(0)
    with raises(NoCurrentTask):
        spawn(c)
    c.close()


def test_join_all_takes_finished_handles_without_awaiting_them_and_keeps_every_place():
    # join_all's in-line case: a plain JoinHandle whose task returned None is not awaited
    # (its place holds None); handles still running, ones with values and failed ones go
    # through the await, in argument order.
    s = StaticScheduler(12)

    async def driver():
        done = [s.spawn(value(None)) for _ in range(3)]
        await yield_now()  # they have finished: each handle's _ref is None
        assert all(h.is_complete() for h in done)
        late = s.spawn(_later(7))
        got = await join_all(done[0], s.spawn(value(1)), done[1], late, done[2],
                             s.spawn(value(None)))
        failed = s.spawn(boom())
        await yield_now()
        mixed = await join_all(done[0], failed, s.spawn(value(2)), return_exceptions=True)
        with raises(ValueError, "boom"):
            await join_all(done[1], s.spawn(boom()), done[2])
        return got, [type(r).__name__ if isinstance(r, Exception) else r for r in mixed]

    got, mixed = s.run_until_complete(driver())
    assert got == [None, 1, None, 7, None, None], got
    assert mixed == [None, "ValueError", 2], mixed
    assert s.free_count() == 12


async def value(v):
    return v


async def boom():
    raise ValueError("boom")


async def _later(v):
    await yield_now()
    await yield_now()
    return v


def test_sleep_takes_float_seconds():
    s = StaticScheduler(2, timer=Timer())
    log = []

    async def main():
        await sleep(0)  # yields once
        await sleep(0.002)
        await sleep(1 / 3000)  # a fraction of a ms rounds up
        log.append("slept")

    s.run_until_complete(main())
    assert log == ["slept"]


def test_grow_mode_makes_slots_and_counts_them():
    fixed = StaticScheduler(2)
    grown = StaticScheduler(2, grow=True)

    async def nothing():
        await yield_now()

    fixed.spawn(nothing())
    fixed.spawn(nothing())
    c = nothing()
    with raises(PoolFull):
        fixed.spawn(c)
    c.close()
    hs = [grown.spawn(nothing()) for _ in range(5)]
    assert (grown.grown, len(grown.slots), fixed.grown) == (3, 5, 0)
    while grown.tick().has_remaining:
        pass
    assert all(h.is_complete() for h in hs)
    hs = [grown.spawn(nothing()) for _ in range(5)]  # the grown slots are reused
    assert grown.grown == 3
    assert shimeji.StaticScheduler is StaticScheduler
    fixed.close()  # their coroutines never ran: closed, not left to warn "never awaited"
    grown.close()
    assert all(h.is_complete() for h in hs)
