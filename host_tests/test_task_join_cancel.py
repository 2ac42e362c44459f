# What a task awaits and what ends it early: cancellation (waiting, before its first poll,
# swallowed, a queued waiter taken off its list), joins (from another task, errors and
# cancellation re-raised, many joiners, a finished handle, a cancelled joiner, its own
# handle), a foreign awaitable, and current_task() inside and outside a task.
import shimeji
from shimeji import Cancelled, StaticScheduler, current_task, yield_now
from support import raises
from taskhelp import drain, returns


def test_cancel_waiting_task_raises_cancelled_inside_it():
    s = StaticScheduler(2)
    log = []

    async def worker():
        try:
            for i in range(100):
                log.append(i)
                await yield_now()
        except Cancelled:
            log.append("cancelled")
            raise
        finally:
            log.append("cleanup")

    h = s.spawn(worker())
    s.tick(2)
    assert h.cancel() is True
    assert h.cancel() is False  # already pending
    drain(s)
    assert log == [0, 1, "cancelled", "cleanup"]
    assert h.is_cancelled()
    with raises(Cancelled):
        h.result()
    assert h.cancel() is False  # finished


def test_cancel_before_first_poll():
    s = StaticScheduler(2)
    log = []

    async def never():
        log.append("ran")

    h = s.spawn(never())
    assert h.cancel()
    drain(s)
    assert log == []
    assert h.is_cancelled()


def test_task_that_swallows_cancel_keeps_running():
    s = StaticScheduler(2)

    async def stubborn():
        try:
            await yield_now()
        except Cancelled:
            pass
        return "still here"

    h = s.spawn(stubborn())
    s.tick(1)
    h.cancel()
    drain(s)
    assert h.result() == "still here"


def test_join_from_another_task():
    s = StaticScheduler(4)
    log = []

    async def child():
        await yield_now()
        log.append("child done")
        return 42

    async def parent():
        h = s.spawn(child())
        log.append("parent waits")
        v = await h
        log.append(("parent got", v))
        return v

    assert s.run_until_complete(parent()) == 42
    assert log == ["parent waits", "child done", ("parent got", 42)]


def test_join_reraises_child_error_and_cancellation():
    s = StaticScheduler(4)

    async def bad():
        raise KeyError("k")

    async def sleeper():
        while True:
            await yield_now()

    async def parent():
        out = []
        try:
            await s.spawn(bad())
        except KeyError:
            out.append("keyerror")
        h = s.spawn(sleeper())
        await yield_now()
        h.cancel()
        try:
            await h
        except Cancelled:
            out.append("cancelled")
        return out

    assert s.run_until_complete(parent()) == ["keyerror", "cancelled"]


def test_many_joiners_all_get_the_result():
    s = StaticScheduler(8)
    got = []

    async def child():
        for _ in range(3):
            await yield_now()
        return "r"

    h = s.spawn(child())

    async def joiner(i):
        got.append((i, await h))

    for i in range(4):
        s.spawn(joiner(i))
    drain(s)
    assert got == [(0, "r"), (1, "r"), (2, "r"), (3, "r")]


def test_awaiting_a_finished_handle_returns_at_once():
    s = StaticScheduler(4)
    h = s.spawn(returns(5))
    drain(s)

    async def late():
        return await h

    assert s.run_until_complete(late()) == 5


def test_cancelling_a_joiner_leaves_the_join_list():
    s = StaticScheduler(4)

    async def child():
        for _ in range(5):
            await yield_now()
        return 1

    child_h = s.spawn(child())

    async def joiner():
        return await child_h

    j = s.spawn(joiner())
    s.tick(2)
    assert child_h._live_slot().joiners.count == 1
    j.cancel()
    assert child_h._live_slot().joiners.count == 0  # at once, not at the next poll
    drain(s)
    assert j.is_cancelled() and child_h.result() == 1


def test_awaiting_own_handle_is_an_error():
    s = StaticScheduler(2)

    async def selfish():
        await current_task()

    h = s.spawn(selfish())
    drain(s)
    with raises(shimeji.JoinSelf, "its own JoinHandle"):
        h.result()


def test_current_task_inside_and_outside():
    s = StaticScheduler(2)

    async def who():
        return current_task().name

    h = s.build_task().name("me").spawn(who())
    drain(s)
    assert h.result() == "me"
    with raises(shimeji.NoCurrentTask, "from inside a task"):
        current_task()


def test_foreign_awaitable_gets_clear_error():
    s = StaticScheduler(2)

    class Weird:
        def __iter__(self):
            return self

        __await__ = __iter__

        def __next__(self):
            return "not a shimeji marker"

    async def confused():
        await Weird()

    h = s.spawn(confused())
    other = s.spawn(returns("unaffected", 2))
    drain(s)
    with raises(shimeji.ForeignAwaitable, "not a shimeji awaitable"):
        h.result()
    assert other.result() == "unaffected"


def test_cancel_takes_a_queued_waiter_off_its_list_at_once():
    s = StaticScheduler(4)

    async def child():
        for _ in range(5):
            await yield_now()

    child_h = s.spawn(child())

    async def joiner():
        await child_h

    j = s.spawn(joiner())
    s.tick(2)
    shimeji.wake(j._live_slot())  # a spurious wake: queued, but still on the joiners list
    assert child_h._live_slot().joiners.count == 1
    j.cancel()
    assert child_h._live_slot().joiners.count == 0
    drain(s)
    assert j.is_cancelled()
