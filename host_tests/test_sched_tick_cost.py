# What a tick pays only when needed: no critical section for a tick whose only events are
# this thread's own spawns (or for one with nothing at all), one when wakes were counted (a
# worker's spawns from other threads count under it too), and the counts stay exact.
from shimeji import NoCriticalSection, StaticScheduler, WaitCell, yield_now
from support import alloc_delta, heap_locked, micropython_only


class CountingSection(NoCriticalSection):
    def __init__(self):
        NoCriticalSection.__init__(self)
        self.entries = 0

    def enter(self):
        self.entries += 1
        return NoCriticalSection.enter(self)


def _counts(t):
    return (t.polled, t.completed, t.spawned, t.woken_external, t.woken_internal, t.woken,
            t.has_remaining)


async def _nothing():
    pass


def test_a_tick_of_this_threads_spawns_takes_no_section_and_counts_them():
    cs = CountingSection()
    s = StaticScheduler(8, critical_section=cs)
    for _ in range(5):
        s.spawn_detached(_nothing())
    before = cs.entries
    t = s.tick()
    assert _counts(t) == (5, 5, 5, 0, 0, 0, False)
    assert cs.entries == before  # spawns from outside a tick: no section at its end
    assert (s.spawned_total, s.completed_total) == (5, 5)
    t = s.tick()
    assert _counts(t) == (0, 0, 0, 0, 0, 0, False)
    assert cs.entries == before and (s.spawned_total, s.completed_total) == (5, 5)


def test_a_tick_after_wakes_takes_the_section_once_and_counts_them():
    cs = CountingSection()
    s = StaticScheduler(8, critical_section=cs)
    cell = WaitCell(cs)
    log = []

    async def waiter():
        await cell.wait()
        log.append("woken")

    async def spawner():
        s.spawn_detached(_nothing())  # a task's spawn: the tick's own list
        await yield_now()

    s.spawn_detached(waiter())
    t = s.tick()
    assert _counts(t) == (1, 0, 1, 0, 0, 0, False)
    cell.wake()  # from outside the tick: external
    s.spawn_detached(spawner())
    before = cs.entries
    t = s.tick()
    # the waiter, the spawner, its spawn, the spawner again; two spawns; one external wake
    assert _counts(t) == (4, 3, 2, 1, 0, 1, False)
    assert cs.entries - before >= 1  # the section for the wake counts (and the take)
    assert log == ["woken"] and s.spawned_total == 3 and s.completed_total == 3


def test_a_wake_during_the_tick_counts_as_internal():
    s = StaticScheduler(4)
    cell = WaitCell()

    async def waiter():
        await cell.wait()

    async def waker():
        cell.wake()

    s.spawn_detached(waiter())
    s.tick()
    s.spawn_detached(waker())
    t = s.tick()
    assert _counts(t) == (2, 2, 1, 0, 1, 1, False)
    assert _counts(s.tick()) == (0, 0, 0, 0, 0, 0, False)


def test_an_empty_tick_under_another_policy_returns_at_once_and_counts():
    from shimeji import PriorityPolicy, RoundRobinPolicy

    for policy in (PriorityPolicy(), RoundRobinPolicy()):
        cs = CountingSection()
        s = StaticScheduler(4, policy=policy, critical_section=cs)
        assert _counts(s.tick()) == (0, 0, 0, 0, 0, 0, False)
        s.spawn_detached(_nothing())
        assert _counts(s.tick()) == (1, 1, 1, 0, 0, 0, False)
        entries = cs.entries
        assert _counts(s.tick()) == (0, 0, 0, 0, 0, 0, False)
        assert cs.entries == entries and (s.spawned_total, s.completed_total) == (1, 1)


def _empty_ticks(scheds, n):
    for _ in range(n):
        for s in scheds:
            s.tick()


def _wake_rounds(s, cell, n):
    for _ in range(n):
        cell.wake()  # counted under the section at the tick's end
        s.tick()


@micropython_only
def test_empty_ticks_and_counted_wakes_allocate_nothing():
    from shimeji import PriorityPolicy

    scheds = [StaticScheduler(2), StaticScheduler(2, policy=PriorityPolicy())]
    _empty_ticks(scheds, 2)
    heap_locked(_empty_ticks, scheds, 50)
    assert alloc_delta(_empty_ticks, scheds, 50) == 0
    s = StaticScheduler(2)
    cell = WaitCell()

    async def waiter():
        while True:
            await cell.wait()

    s.spawn_detached(waiter())
    _wake_rounds(s, cell, 3)
    heap_locked(_wake_rounds, s, cell, 50)
    assert alloc_delta(_wake_rounds, s, cell, 50) == 0
    t = s.tick()
    assert (t.polled, t.woken) == (0, 0) and s.completed_total == 0


def test_the_tick_own_spawn_list_stays_off_once_the_ids_wrapped():
    # tick_fifo's spawns use the tick's own list only while the ids never wrapped: off for
    # good once they did (here outside a tick, between two ticks).
    s = StaticScheduler(4)
    seen = []

    async def look():
        seen.append(s._local_ok)

    s.spawn_detached(look())
    s.tick()
    s._next_id = (1 << 30) - 1  # the next spawn wraps the ids
    s.spawn_detached(look())
    s.tick()
    s.spawn_detached(look())
    s.tick()
    assert seen == [True, False, False] and s.ids_wrapped
