# A task that returns None on a plain StaticScheduler's FIFO tick is completed by the tick in
# line (no call to _complete); everything _complete does must still happen: the handle's
# outcome, joiners woken with None, a detached handle left detached, a timer the task armed but
# never awaited disarmed, a cancellation requested in its last poll dropped, its pool slot
# freed (a caller-owned slot is not). A subclass that overrides _complete is still called.
from shimeji import FakeClock, StaticScheduler, TaskSlot, Timer, sleep_ms, yield_now
from support import needs_thread_module


async def returns_none():
    return None


def test_an_in_line_completion_leaves_slot_handle_and_joiners_as_complete_does():
    clock = FakeClock()
    s = StaticScheduler(4, timer=Timer(clock, 1000))
    log = []

    async def arms_and_ends():
        sleep_ms(50)  # armed, never awaited: the completion must disarm it
        return None

    async def cancels_itself():
        log.append(s.spawn(returns_none()).cancel())  # (a different task: it is queued)
        me = s.slots[3]  # cancelled in its own last poll: it ends before it can be thrown in
        log.append(me.handle.cancel())

    held = []

    async def joiner():
        log.append(("joined", await held[0]))  # parks first: the completion wakes it

    s.spawn_detached(joiner())
    h_joined = s.spawn(returns_none())
    held.append(h_joined)
    h_armed = s.spawn(arms_and_ends())
    h_cancel = s.spawn(cancels_itself())
    while s.tick().has_remaining:
        pass
    # The task it spawned was cancelled before it ran; its own cancel took effect but the task
    # returned first (completion drops it); the joiner, woken by the completion, got None.
    assert log == [True, True, ("joined", None)]
    assert h_armed.result() is None and h_joined.result() is None
    assert h_cancel.result() is None
    assert s.slots[2].timer.pos < 0  # disarmed
    assert all(list(x.w)[:5] == [0, 0, 0, 0, 0xFFFF] and x.coro is None and
               x.throw_exc is None and not x.cancel_requested and x.sched in (None, s)
               for x in s.slots)  # (a free pool slot may keep its scheduler: TaskSlot.sched)
    assert s.live_count() == 0 and s.free_count() == 4
    assert (s.completed_total, s.spawned_total) == (5, 5)
    # The next tasks in the same slots run normally and their handles are their own.
    hs = [s.spawn(returns_none()) for _ in range(4)]
    s.tick()
    assert [h.result() for h in hs] == [None] * 4
    assert h_armed.result() is None


def test_a_detached_handle_stays_detached_and_a_caller_owned_slot_stays_off_the_pool():
    s = StaticScheduler(2)
    own = TaskSlot()
    h = s.spawn_allocated(own, returns_none())
    d = s.spawn(returns_none())
    d.detach()
    s.tick()
    assert h.result() is None
    assert own.w[0] == 0 and s.free_count() == 2  # the pool's two, not the caller's slot
    try:
        d.result()
        raise AssertionError("a detached handle must raise StaleHandle")
    except Exception as e:  # noqa: BLE001
        assert type(e).__name__ == "StaleHandle"
    h2 = s.spawn_allocated(own, returns_none())  # the caller's slot can be used again
    s.tick()
    assert h2.result() is None and h2.id != h.id


def test_a_subclass_that_overrides_complete_is_still_called():
    seen = []

    class Counting(StaticScheduler):
        def _complete(self, slot, status, value):
            seen.append((slot.id, status, value))
            StaticScheduler._complete(self, slot, status, value)

    s = Counting(3)

    async def main():
        h = s.spawn(returns_none())
        await yield_now()
        return await h

    h = s.spawn(main())
    while s.tick().has_remaining:
        pass
    assert h.result() is None
    assert seen == [(2, 2, None), (1, 2, None)]
    assert s.free_count() == 3


async def returns_one():
    return 1


def _named_then_unnamed(coro):
    s = StaticScheduler(1)
    slot = s.slots[0]
    h = s.spawn(coro(), name="kept")
    s.tick()
    assert h.name == "kept" and slot.name is None
    s.spawn_detached(coro(), name="dropped")  # a new handle, which the slot keeps
    reused = slot.handle
    assert reused.name == "dropped" and not slot.handle_out
    s.tick()
    assert slot.name is None and reused.name is None and h.name == "kept"
    seen = []

    async def spawns():  # in a slot of its own: the pool's slot is spawned in line
        seen.append(s.spawn(coro()))
        seen.append(s.tasks())

    s.spawn_allocated(TaskSlot(), spawns())
    s.tick()
    assert seen[0] is reused and seen[0].name is None
    assert [row[1] for row in seen[1]] == [None, None]
    s.tick()
    return seen[0].result()


def test_a_named_tasks_completion_leaves_its_slot_and_a_reused_handle_nameless():
    # spawn's fast path writes no name (a free slot has none): every completion clears it,
    # the in-line one (a None return) and StaticScheduler._complete (a value) alike, and the
    # name of a handle the slot reuses (not handed out); a handed-out handle keeps its own.
    assert _named_then_unnamed(returns_none) is None
    assert _named_then_unnamed(returns_one) == 1


def _chain(slot, link):
    out = []
    while slot is not None:
        out.append(slot)
        slot = getattr(slot, link)
    return out


@needs_thread_module  # an Executor, driven on this thread
def test_a_slot_handed_over_by_a_steal_or_the_injector_goes_back_to_its_owner():
    # A clean slot's in-line completion puts it on the completing scheduler's free list
    # without reading its owner (TaskSlot.dirty); a worker completes by its own _complete,
    # which reads it: a slot that moved to another worker (a steal, the injector) goes home.
    from shimeji import Executor

    ex = Executor(workers=2, capacity=4)
    victim, thief = ex.workers
    hs = [victim.spawn(returns_none()) for _ in range(2)]
    victim._drain_inbox()  # spawned tasks wait in the inbox until the tick drains it
    victim._request = thief
    victim._serve()  # the newer half (one task) moves to the thief
    moved = [h._live_slot() for h in hs if h._live_slot().sched is thief]
    assert len(moved) == 1 and moved[0].owner is victim
    thief.tick()
    assert hs[1].result() is None
    assert moved[0] in _chain(victim._returned, "free_next")  # given back, not kept
    assert moved[0] not in _chain(thief._free_head, "run_next")
    victim.tick()
    assert hs[0].result() is None
    # The injector: a task spawned from outside every worker runs on whichever takes it.
    h = ex.spawn(returns_none())
    slot = h._live_slot()
    other = thief if slot.owner is victim else victim
    ex.injector.take(other)
    other.tick()
    assert h.result() is None
    assert slot in _chain(slot.owner._returned, "free_next")
    assert slot not in _chain(other._free_head, "run_next")
    ex.close()
