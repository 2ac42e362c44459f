# tick_fifo's _local_ok (spawns of its tasks go on the tick's own list) comes from one field,
# _local_next, cleared where what forbids the list is set: a worker (parallel), ids that
# wrapped or a set id range (ids_wrapped), a closed scheduler. Each case: what a task sees
# during its poll, and that its spawns still run. Both runtimes.
from shimeji import StaticScheduler, spawn


async def _child():
    return 7


def _poll_sees(sched):
    """(_local_ok during a task's poll, its child's result) for one task spawned on sched."""
    seen = []

    async def parent():
        seen.append(sched._local_ok)
        return await spawn(_child())

    h = sched.spawn(parent())
    for _ in range(6):
        sched.tick()
    assert h.is_complete()
    return seen[0], h.result()


def test_a_fresh_scheduler_lets_its_tasks_spawn_on_the_ticks_list():
    sched = StaticScheduler(4)
    assert sched._local_next is True
    assert _poll_sees(sched) == (True, 7)
    assert sched._local_ok is False  # outside a tick
    sched.close()


def test_an_id_range_clears_it_for_every_later_tick():
    sched = StaticScheduler(4)
    sched.set_id_range(100, 200)
    assert sched.ids_wrapped and sched._local_next is False
    assert _poll_sees(sched) == (False, 7)
    sched.close()


def test_ids_that_wrap_clear_it():
    sched = StaticScheduler(4)
    top = 0x3FFFFFFF  # the last id: the spawn that takes it wraps the ids
    sched._next_id = top - 1
    a = sched.spawn(_child())
    assert a.id == top - 1 and sched._local_next is True
    b = sched.spawn(_child())
    assert b.id == top and sched.ids_wrapped and sched._local_next is False
    sched.tick()
    assert a.result() == b.result() == 7
    assert _poll_sees(sched) == (False, 7)
    sched.close()


def test_a_closed_scheduler_clears_it():
    sched = StaticScheduler(4)
    sched.close()
    assert sched.closed and sched._local_next is False
