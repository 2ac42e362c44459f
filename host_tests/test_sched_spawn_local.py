# A task that spawns while the FIFO tick polls it hands the new task to the tick's own list (no
# critical section); a spawn after a wake in the same poll goes through the inbox behind it.
# Either way the order is the order of the calls, the same as the general tick's (a round-robin
# scheduler), and nothing is lost when a poll ends the tick. Awaiting a handle whose task
# already returned None ends through an exhausted iterator (no __next__, no raise).
from shimeji import Event, RoundRobinPolicy, StaticScheduler, yield_now
from support import needs_thread_module


async def note(log, name):
    log.append(name)


def _spawner_log(policy):
    s = StaticScheduler(8, policy=policy)
    log = []
    ev = Event()

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def spawner():
        await yield_now()  # the waiter parks first
        s.spawn_detached(note(log, "a"))  # the tick's own list
        ev.set()  # the inbox
        s.spawn_detached(note(log, "b"))  # after a wake: the inbox, behind it
        log.append("spawner yields")
        await yield_now()
        s.spawn_detached(note(log, "c"))
        log.append("spawner ends")

    s.spawn_detached(waiter())
    s.spawn_detached(spawner())
    for _ in range(10):
        s.tick()
    return log


def test_spawns_and_wakes_of_one_poll_run_in_call_order_as_on_the_general_path():
    fast = _spawner_log(None)
    general = _spawner_log(RoundRobinPolicy())
    assert fast == ["spawner yields", "a", "woken", "b", "spawner ends", "c"]
    assert general == fast


def test_a_spawn_before_the_poll_ends_the_tick_is_queued_not_lost():
    s = StaticScheduler(4)
    log = []

    async def stopper():
        s.spawn_detached(note(log, "spawned"))
        raise KeyboardInterrupt  # ends the tick from inside the poll

    h = s.spawn(stopper())
    try:
        s.tick()
    except KeyboardInterrupt:
        log.append("interrupted")
    assert h.is_cancelled()
    t = s.tick()
    assert (t.polled, t.completed) == (1, 1)
    assert log == ["interrupted", "spawned"]
    assert s.live_count() == 0 and s.free_count() == 4


def test_awaiting_finished_handles_gives_their_outcomes():
    s = StaticScheduler(8)
    got = []

    async def value(v):
        return v

    async def fails():
        raise ValueError("boom")

    async def main():
        hs = [s.spawn(value(None)), s.spawn(value(3)), s.spawn(fails())]
        await yield_now()  # all three finish before they are awaited
        for h in hs:
            try:
                got.append(await h)
            except ValueError as e:
                got.append(str(e))
        got.append(await hs[0])  # again: the same exhausted iterator
        return len(got)

    assert s.run_until_complete(main()) == 4
    assert got == [None, 3, "boom", None]


def test_spawns_from_a_task_are_counted_and_keep_ids_names_and_outcomes():
    # The second round reuses slots whose handles were handed out: spawn's in-line path (no
    # name), and _start for the named one; every task counted once, at its tick's end (so the
    # parent sees 0, then 3: itself and the first round).
    s = StaticScheduler(3)
    seen = []

    async def value(v):
        return v

    async def parent():
        for rnd in range(2):
            hs = [s.spawn(value(rnd * 10)), s.spawn(value(rnd * 10 + 1), name="n%d" % rnd)]
            seen.append((s.spawned_total, [h.id for h in hs], [h.name for h in hs]))
            for h in hs:
                seen.append(await h)
            seen.append([h.result() for h in hs])

    s.spawn_detached(parent())
    ticks = []
    while True:
        t = s.tick(1)
        ticks.append((t.polled, t.spawned, t.completed))
        if not t.has_remaining:
            break
    assert seen == [(0, [2, 3], [None, "n0"]), 0, 1, [0, 1],
                    (3, [4, 5], [None, "n1"]), 10, 11, [10, 11]]
    assert ticks == [(1, 3, 0), (1, 0, 1), (1, 0, 1), (1, 2, 0), (1, 0, 1), (1, 0, 1),
                     (1, 0, 1)]
    assert s.spawned_total == 5 and s.completed_total == 5 and s.free_count() == 3


@needs_thread_module  # an Executor (built on _thread), driven on this thread
def test_a_worker_spawn_from_its_task_still_goes_through_the_inbox():
    from shimeji.executor import Executor

    ex = Executor(workers=1, capacity=4)
    w = ex.workers[0]
    log = []

    async def parent():
        w.spawn_detached(note(log, "child"))
        log.append(w._local_head is None and w._inbox_head is not None)

    w.spawn_detached(parent())
    w.tick()
    assert log == [True, "child"]


def test_ids_that_wrap_inside_a_poll_skip_live_ids_and_keep_the_call_order():
    # spawn's in-line case assumes ids that never wrapped: the spawn that wraps them turns it
    # off for the rest of the tick, so the next spawns of the same poll skip a live id too.
    mask = (1 << 30) - 1
    s = StaticScheduler(8)
    log = []
    gate = Event()
    handles = []

    async def long_lived():
        await gate.wait()
        log.append("old")

    async def spawner():
        for name in "abcd":
            handles.append(s.spawn(note(log, name)))

    old = s.spawn(long_lived())  # id 1, still live when the ids come round
    s.tick()
    s._next_id = mask - 1
    s.spawn_detached(spawner())  # id 2**30-2; its spawns take 2**30-1, then wrap
    s.tick()
    s.tick()
    gate.set()
    s.tick()
    assert old.id == 1
    assert [h.id for h in handles] == [mask, 2, 3, 4]
    assert log == ["a", "b", "c", "d", "old"]
    assert s.ids_wrapped and all(h.is_complete() for h in handles + [old])


def _mixed_spawns(first_id):
    # One poll spawns on every path: in line, named (_start), a caller's slot (_start), then
    # after a wake through the inbox; tick_fifo counts the tick's own list by its ids.
    from shimeji import TaskSlot

    s = StaticScheduler(8)
    s._next_id = first_id
    log = []
    ev = Event()
    own = TaskSlot()

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def spawner():
        await yield_now()
        s.spawn_detached(note(log, "a"))
        s.spawn_detached(note(log, "b"), name="b")
        s.spawn_allocated(own, note(log, "c"), detached=True)
        ev.set()
        s.spawn_detached(note(log, "d"))
        await yield_now()
        s.spawn_detached(note(log, "e"))

    s.spawn_detached(waiter())
    s.spawn_detached(spawner())
    ticks = []
    for _ in range(6):
        t = s.tick(2)
        ticks.append((t.polled, t.spawned, t.completed))
    return log, ticks, s.spawned_total, s.completed_total


def test_spawns_of_one_poll_on_every_path_are_counted_once():
    log, ticks, spawned, completed = _mixed_spawns(1)
    assert log == ["a", "b", "c", "woken", "d", "e"]
    assert ticks == [(2, 2, 0), (2, 4, 1), (2, 0, 2), (2, 0, 2), (2, 1, 2), (0, 0, 0)]
    assert (spawned, completed) == (7, 7)


def test_spawn_counts_stay_exact_when_the_ids_wrap_inside_a_poll():
    # The ids come round (2**30 - 1 is the last) inside the spawning poll: "a" and "b" take
    # the tick's own list, "c" (the last id, which wraps them) and "d" the inbox; the counts
    # are the same as far from the wrap.
    assert _mixed_spawns((1 << 30) - 5) == _mixed_spawns(1)


def test_a_tick_driven_by_a_task_keeps_that_schedulers_own_list_until_it_returns():
    # outer's task spawns onto outer, ticks inner (whose task spawns onto outer: by _start,
    # the inbox), then spawns again: call order, every spawn counted once. outer's _local_ok
    # is held False meanwhile and stays False after inner's tick, its inbox holding a task
    # (the spawn after it follows it there); test_sched_wake_clears_local has it restored.
    outer = StaticScheduler(8)
    inner = StaticScheduler(2)
    log = []

    async def inner_task():
        outer.spawn_detached(note(log, "from inner"))
        log.append(("inner sees outer's list", outer._local_ok))

    async def driver():
        outer.spawn_detached(note(log, "before"))
        inner.spawn_detached(inner_task())
        inner.tick()
        log.append(("back", outer._local_ok))
        outer.spawn_detached(note(log, "after"))

    outer.spawn_detached(driver())
    first = outer.tick(1).spawned  # (the Tick is one object, refilled by each tick)
    second = outer.tick().spawned
    assert log == [("inner sees outer's list", False), ("back", False), "before", "from inner",
                   "after"]
    assert (first, second, outer.spawned_total, inner.spawned_total) == (4, 0, 4, 1)
    assert outer.live_count() == 0 and not outer._local_ok


def test_an_interrupt_level_task_cannot_spawn_onto_a_ticking_thread_scheduler():
    # The level runs inside a thread-level task's poll (port.check_point: a VM check point):
    # its task's spawn onto the thread scheduler is refused (WrongLevel) and takes nothing;
    # the thread task's own spawns before and after go on in order.
    from shimeji import InterruptScheduler, WaitCell, WrongLevel, port

    isr = InterruptScheduler(2)
    sched = StaticScheduler(4)
    cell = WaitCell()
    log = []

    async def interrupt_task():
        await cell.wait()
        coro = note(log, "from interrupt")
        try:
            sched.spawn(coro)
        except WrongLevel:
            coro.close()
            log.append("refused")

    async def thread_task():
        sched.spawn_detached(note(log, "before"))
        cell.wake()
        port.check_point()  # the level runs here, inside this poll
        log.append(("back", sched._local_ok))
        sched.spawn_detached(note(log, "after"))

    isr.spawn_detached(interrupt_task())
    port.check_point()
    sched.spawn_detached(thread_task())
    t = sched.tick()
    assert log == ["refused", ("back", True), "before", "after"]
    assert (t.spawned, t.completed, sched.free_count()) == (3, 3, 4)
