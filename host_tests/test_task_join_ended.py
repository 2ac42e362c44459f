# A join the tick's in-line completion ends (the joined task returned None, its one joiner
# parked by core.JOIN) writes no status or value: a joiner of the join ring (wait_phase 3,
# sched/owntick.py) gets its phase back to 0 and its await ends on an empty ring; one parked
# by JoinHandle.__next__ gets 2, which its __next__ ends the await on. What must still hold: the
# joiner's wait fields clean after the await, the handle detached while the joiner waits, a
# cancel of the joiner between the completion and its resumption, a later wait of the same
# task. Both runtimes, on the viper tick and the native one.
from shimeji import Cancelled, Event, StaticScheduler, yield_now
from shimeji.core import QUEUED
from shimeji.sched import fastpath
from shimeji.task.slot import JoinHandle
from shimeji.task.words import state_of

RING = JoinHandle.__iter__ is not JoinHandle.__await__  # the join ring (sched/owntick.py)


def _run(s, coro):
    h = s.spawn(coro)
    for _ in range(50):
        if h.is_complete():
            break
        s.tick()
    return h.result()


def _ticks():
    # The viper tick (tick_fifo, scheduler.tick's) and fastpath's native tick by hand.
    return (lambda s: s.tick(), lambda s: fastpath.tick_fifo(s, 256))


async def _none():
    return None


async def _joins_three(s, seen):
    me = s.slots[0]
    for _ in range(3):
        r = await s.spawn(_none())
        seen.append((r, me.wait_phase, me.wait_status, me.wait_value, me.waiting_on))
    return "ok"


def test_a_join_ended_in_line_leaves_the_joiners_wait_fields_clean():
    for tick in _ticks():
        s = StaticScheduler(4)
        seen = []
        h = s.spawn(_joins_three(s, seen))
        while not h.is_complete():
            tick(s)
        assert h.result() == "ok"
        assert seen == [(None, 0, 0, None, None)] * 3


def test_a_handle_detached_while_its_joiner_waits_still_ends_the_await():
    s = StaticScheduler(4)
    log = []

    async def child():
        log.append("child")
        return None

    async def detacher(h):
        h.detach()
        log.append("detached")

    async def driver():
        h = s.spawn(child())
        s.spawn(detacher(h))
        r = await h
        log.append(("joined", r))
        return "ok"

    assert _run(s, driver()) == "ok"
    assert ("joined", None) in log and "detached" in log


def test_a_cancel_between_the_completion_and_the_resumption_raises_cancelled():
    s = StaticScheduler(4)
    ev = Event()
    log = []

    async def child():
        return None

    async def waiter():
        try:
            await s.spawn(child())
        except Cancelled:
            log.append("cancelled")
            assert s.slots[0].wait_phase == 0
            await ev.wait()  # a later wait of the same task works
            log.append("woken")
            return "after"
        return "joined"

    h = s.spawn(waiter())
    s.tick(1)  # the waiter spawns and parks on its join
    s.tick(1)  # the child ends in line: the waiter is queued, its phase 0 (ring) or 2
    assert s.slots[0].wait_phase == (0 if RING else 2)
    assert state_of(s.slots[0]) == QUEUED
    assert h.cancel()
    for _ in range(5):
        s.tick()
    ev.set()
    for _ in range(5):
        s.tick()
    assert h.result() == "after"
    assert log == ["cancelled", "woken"]


def test_a_task_that_yields_before_it_ends_is_joined_with_its_value():
    s = StaticScheduler(4)

    async def child():
        await yield_now()
        return 7

    async def driver():
        a = await s.spawn(_none())
        b = await s.spawn(child())
        return (a, b)

    assert _run(s, driver()) == (None, 7)
