# spawn_detached does its two common cases in one call (sched/detached.py): a task's spawn
# while the FIFO tick polls it, and a spawn from outside any task onto a FIFO scheduler no tick
# is polling. These tests hold it to what spawn + giving the handle back did: the same order,
# ids, counts and handles, nothing allocated, and every other case (a name, a handle handed
# out, a closed, traced or full scheduler, wrapped ids, another policy, another scheduler's
# task, a class with its own spawn) through spawn as before.
from shimeji import (
    InterruptScheduler,
    NotACoroutine,
    PoolFull,
    RoundRobinPolicy,
    SchedulerClosed,
    StaticScheduler,
    TaskSlot,
    Trace,
    current_task,
    yield_now,
)
from support import alloc_delta, micropython_only, needs_native_shimeji

_SPAWN = 1  # trace.kinds.SPAWN
_COMPLETE = 8  # trace.kinds.COMPLETE


async def note(log, name):
    log.append(name)


async def trivial():
    return None


def _drain(s):
    while s.tick().has_remaining:
        pass


def test_detached_and_joined_spawns_from_outside_keep_one_order_ids_and_counts():
    for policy in (None, RoundRobinPolicy()):  # the in-line FIFO case, and spawn's path
        s = StaticScheduler(6, policy=policy)
        log = []
        s.spawn_detached(note(log, "a"))
        h = s.spawn(note(log, "b"))
        s.spawn_detached(note(log, "c"))
        s.spawn_detached(note(log, "d"))
        ids = [slot.id for slot in s.slots[:4]]
        t = s.tick()
        assert (t.polled, t.completed, t.spawned) == (4, 4, 4)
        assert log == ["a", "b", "c", "d"]
        assert ids == [1, 2, 3, 4] and h.id == 2 and h.result() is None
        assert s.spawned_total == 4 and s.completed_total == 4
        assert [slot.handle_out for slot in s.slots[:4]] == [False, True, False, False]
        assert s.live_count() == 0 and s.free_count() == 6


def test_a_detached_spawn_reuses_the_slot_handle_with_its_own_id_and_no_old_name():
    s = StaticScheduler(1)
    slot = s.slots[0]
    s.spawn_detached(trivial(), name="named")  # through spawn: the handle keeps the name
    handle = slot.handle
    assert (handle.id, handle.name, slot.name, slot.handle_out) == (1, "named", "named", False)
    _drain(s)
    s.spawn_detached(trivial())  # in line: the same handle, its name cleared
    assert slot.handle is handle and (handle.name, slot.name) == (None, None)
    assert not slot.handle_out  # (its id and slot are written once it is handed out: below)
    _drain(s)
    assert handle.is_complete() and s.free_count() == 1
    seen = []

    async def mine():
        h = current_task()
        seen.append((h, h.id, h._live_slot(), h.is_complete()))

    s.spawn_detached(mine())  # in line again: current_task() hands the reused handle out
    _drain(s)
    assert seen == [(handle, 3, slot, False)] and slot.handle_out and handle.is_complete()


def test_a_named_slot_reused_from_a_task_or_after_detach_clears_the_handle_name():
    # The in-line spawns read the name to clear from the slot (a reused handle carries its
    # slot's name): from a task (spawn_detached and spawn, both in line), and after detach(),
    # which gives the running task's slot a handle of its own with the name copied.
    s = StaticScheduler(2)
    seen = []

    def named():  # a named detached task, run to its end: its slot goes on top of the free list
        s.spawn_detached(trivial(), name="named")
        a = [slot for slot in s.slots if slot.name == "named"][0]
        assert (a.handle.name, a.handle_out) == ("named", False)
        _drain(s)
        return a, a.handle

    async def driver(spawn, a):
        h = spawn(trivial())  # takes slot a (the driver runs in a slot of its own), in line
        seen.append((a.handle.id, a.handle.name, a.name, a.handle_out, h))

    def run(coro):  # the driver in a caller-owned slot: the pool's top slot stays a
        s.spawn_allocated(TaskSlot(), coro)
        _drain(s)

    a, handle = named()
    run(driver(s.spawn_detached, a))
    assert a.handle is handle and seen[0][:4] == (handle.id, None, None, False)
    assert seen[0][4] is None
    a, handle = named()
    run(driver(s.spawn, a))
    assert a.handle is handle and seen[1][:4] == (handle.id, None, None, True)
    assert seen[1][4] is handle and handle.name is None and handle.result() is None

    t = StaticScheduler(1)
    slot = t.slots[0]

    async def waits():
        await yield_now()

    h = t.spawn(waits(), name="kept")
    t.tick(1)  # its first poll: it yielded, it has not ended
    assert h._live_slot() is slot
    h.detach()  # the running task's slot: a handle of its own, named as the task
    own = slot.handle
    assert own is not h and (own.name, slot.name, slot.handle_out) == ("kept", "kept", False)
    _drain(t)
    t.spawn_detached(trivial())  # reuses it: its name cleared with the slot's
    assert slot.handle is own and (own.name, slot.name) == (None, None)
    _drain(t)


def test_a_slot_whose_handle_was_handed_out_gets_a_new_one():
    s = StaticScheduler(1)
    slot = s.slots[0]

    async def value():
        return 7

    h = s.spawn(value())
    _drain(s)
    s.spawn_detached(trivial())  # never the handle a caller holds
    assert slot.handle is not h and slot.handle.id == 2 and not slot.handle_out
    assert h.result() == 7 and h.id == 1  # the old handle still tells its own task
    _drain(s)
    assert s.free_count() == 1


def test_misuse_still_raises_and_changes_nothing():
    s = StaticScheduler(1)
    try:
        s.spawn_detached(trivial)
        raise AssertionError("spawned a function")
    except NotACoroutine as e:
        assert "spawn(trivial()) not spawn(trivial)" in str(e)
    s.spawn_detached(trivial())
    extra = trivial()
    try:
        s.spawn_detached(extra)
        raise AssertionError("spawned beyond the pool")
    except PoolFull:
        pass
    extra.close()
    _drain(s)
    assert s.spawned_total == 1 and s.free_count() == 1
    s.close()
    late = trivial()
    try:
        s.spawn_detached(late)
        raise AssertionError("spawned on a closed scheduler")
    except SchedulerClosed:
        pass
    late.close()
    assert s.live_count() == 0


def test_wrapped_ids_and_a_trace_go_through_spawn():
    s = StaticScheduler(3)
    s.set_id_range(5, 6)  # ids 5, 6, then 5 again: every id through _new_id
    log = []
    ids = []
    for name in ("a", "b", "c"):
        s.spawn_detached(note(log, name))
        s.tick()
        ids.append(s.slots[0].id)  # (the free list is a stack: slot 0 each time)
    assert log == ["a", "b", "c"]
    assert ids == [5, 6, 5]
    s = StaticScheduler(3)
    trace = Trace(32)
    trace.attach(s)
    s.spawn_detached(trivial())
    s.spawn_detached(trivial())
    _drain(s)
    kinds = [r[1] for r in trace.records()]
    assert kinds.count(_SPAWN) == 2 and kinds.count(_COMPLETE) == 2


def test_a_task_of_another_scheduler_spawns_detached_onto_this_one():
    a = StaticScheduler(2)
    b = StaticScheduler(2)
    log = []

    async def on_a():
        b.spawn_detached(note(log, "on b"))  # not b's tick: b's queue, counted at b's tick
        log.append("a spawned")
        await yield_now()

    a.spawn_detached(on_a())
    a.tick()
    t = b.tick()
    assert log == ["a spawned", "on b"] and (t.polled, t.spawned) == (1, 1)
    _drain(a)
    assert a.live_count() == 0 and b.live_count() == 0


def test_a_class_with_its_own_spawn_keeps_it_for_detached_spawns():
    calls = []

    class Counting(StaticScheduler):
        def spawn(self, coro, name=None):
            calls.append(name)
            return StaticScheduler.spawn(self, coro, name)

    s = Counting(2)
    log = []
    s.spawn_detached(note(log, "x"))
    _drain(s)
    assert calls == [None] and log == ["x"] and s.slots[0].handle_out is False
    plain = StaticScheduler(1)
    assert plain.spawn_detached.__name__ == "spawn_detached_inline"
    assert s.spawn_detached.__name__ == "spawn_detached"
    assert InterruptScheduler(1).spawn_detached.__name__ == "spawn_detached"


@micropython_only
@needs_native_shimeji
def test_detached_batches_from_outside_allocate_nothing_but_the_coroutines_end():
    import micropython

    s = StaticScheduler(20)

    def batch(coros):
        for i in range(len(coros)):  # (a for over the list would make an iterator)
            s.spawn_detached(coros[i])
        while s.tick().polled:
            pass

    for _ in range(3):  # warm every slot
        batch([trivial() for _ in range(20)])
    coros = [trivial() for _ in range(20)]
    micropython.heap_lock()
    try:
        batch(coros)
    finally:
        micropython.heap_unlock()
    one = alloc_delta(batch, [trivial()])
    many = alloc_delta(batch, [trivial() for _ in range(20)])
    assert many - one == 19 * alloc_delta(StopIteration), (one, many)  # nothing more
    assert s.spawned_total == 20 * 4 + 21 and s.live_count() == 0 and s.failed_total == 0
