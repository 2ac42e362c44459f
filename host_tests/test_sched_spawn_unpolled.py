# A task that a task spawns in line (spawn's in-line case, while the FIFO tick polls) keeps
# its state word FREE until its first poll writes RUNNING (task/words.py W_STATE: the store
# was ~300 instructions of a spawn). Until then it is live (it holds a coroutine): counted,
# listed as queued, cancellable, woken as a no-op, and closed like any queued task.
from shimeji import Cancelled, StaticScheduler, core, yield_now
from shimeji.task.words import state_of


async def returns(log, x):
    log.append(x)
    return x


def test_a_task_spawned_in_line_is_live_queued_and_cancellable_before_its_first_poll():
    s = StaticScheduler(4)
    log = []
    seen = []

    async def spawner():
        h = s.spawn(returns(log, 1))
        slot = h._live_slot()
        seen.append((slot.w[0], state_of(slot), s.live_count(), len(s.live_slots())))
        seen.append([state for _, _, state in s.tasks()])
        s.wake(slot)  # a no-op, as for a queued task
        c = s.spawn(returns(log, 2))
        seen.append(c.cancel())  # before its first poll: it never runs
        seen.append(c.cancel())  # (already requested)
        await yield_now()
        seen.append(state_of(slot))
        return h

    h0 = s.spawn(spawner())
    while s.tick().has_remaining:
        pass
    h = h0.result()
    assert seen[0] == (core.FREE, core.QUEUED, 2, 2)  # (the spawner and it)
    assert sorted(seen[1]) == ["queued", "running"]
    assert seen[2:5] == [True, False, core.FREE]  # (finished by then: its slot is free)
    assert log == [1] and h.result() == 1
    assert s.live_count() == 0 and s.free_count() == 4 and s.completed_total == 3


def test_close_after_a_tick_that_ended_before_a_spawned_tasks_first_poll():
    s = StaticScheduler(4)
    log = []
    held = []

    async def spawner():
        held.append(s.spawn(returns(log, 1)))
        await yield_now()

    s.spawn(spawner())
    s.tick(1)  # the spawner's poll only: its task is queued, never polled
    slot = held[0]._live_slot()
    assert (slot.w[0], state_of(slot), s.live_count()) == (core.FREE, core.QUEUED, 2)
    s.close()
    assert log == [] and s.live_count() == 0 and s.free_count() == 4
    assert s._fifo.head is None and s._fifo.tail is None  # taken off the run queue
    try:
        held[0].result()
        raise AssertionError("a closed scheduler's task must report Cancelled")
    except Cancelled:
        pass
