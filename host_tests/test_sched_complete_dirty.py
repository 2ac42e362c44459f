# The FIFO tick's in-line completion reads one slot field, ``dirty``, instead of checking the
# slot's wait list, wait phase, joiners and pending throw one by one (sched/fastpath.py): every
# setter of those sets it. What that relies on, for each way a task can be left in a wait when
# it returns: a wait it drove by hand on each primitive (its wait list, its phase), a join it
# drove by hand (it is on the joined task's list), a joined task's joiners, a cancel in its
# own last poll. Each slot is clean after, and the slot's next task waits and joins as new.
from shimeji import (
    Channel,
    Event,
    Mutex,
    RwLock,
    Semaphore,
    StaticScheduler,
    WaitCell,
    WaitMap,
    WaitQueue,
    yield_now,
)
from shimeji.core import current_slot


def _run(s):
    while s.tick().has_remaining:
        pass


def _clean(slot):
    return (slot.dirty, slot.waiting_on, slot.wait_phase, slot.wait_status,
            slot.throw_exc, slot.w[1], slot.cancel_requested) == \
        (False, None, 0, 0, None, 0, False)


def _waits():
    # (name, the primitive in a state where a wait parks, an awaitable waiting on it, how
    # many still wait on it)
    mx, rw = Mutex(), RwLock()
    mx.try_lock()  # held outside any task: a lock() waits
    rw.try_read()  # a reader holds it: a write() waits
    ch = Channel(1)
    ch.try_send(0)  # full: a send waits
    sem, ev, wm, wq, cell, empty = Semaphore(0), Event(), WaitMap(), WaitQueue(), WaitCell(), \
        Channel(1)
    return [
        ("event", ev.wait, ev.waiters),
        ("semaphore", sem.acquire, sem.waiters),
        ("mutex", mx.lock, mx.waiters),
        ("rwlock", rw.write, None),
        ("channel send", lambda: ch.send(1), None),
        ("channel recv", empty.recv, None),
        ("waitmap", lambda: wm.wait("k"), wm.waiters),
        ("waitqueue", wq.wait, None),
        ("waitcell", cell.wait, None),
    ]


def _left_in_a_wait(name, make, waiters):
    s = StaticScheduler(2)
    seen = []

    async def leaves_a_wait():
        aw = make()
        aw.__next__()  # linked on the primitive's list, wait_phase 1; then it returns
        me = current_slot()
        seen.append((me.dirty, me.waiting_on is not None, me.wait_phase))

    s.spawn(leaves_a_wait())
    _run(s)
    slot = s.slots[0]
    assert seen == [(True, True, 1)], name
    assert _clean(slot), name
    if waiters is not None:
        assert waiters() == 0, name
    # The slot's next task (the parent: the free list is a stack) joins as new, and its child
    # is joined.
    got = []

    async def child():
        await yield_now()
        return 7

    async def parent():
        got.append(await s.spawn(child()))

    s.spawn(parent())
    _run(s)
    assert got == [7] and slot.id == 2, name
    assert all(_clean(x) for x in s.slots), name


def test_a_wait_driven_by_hand_on_each_primitive_is_undone_by_the_completion():
    for name, make, waiters in _waits():
        _left_in_a_wait(name, make, waiters)


def test_a_join_driven_by_hand_and_a_joined_tasks_joiners_are_seen_to():
    s = StaticScheduler(3)
    held = []
    log = []

    async def child():
        await yield_now()
        log.append("child ends")

    async def joins_by_hand():
        h = s.spawn(child())
        held.append(h)
        h.__next__()  # on the child's joiners list (core.JOIN); then it returns
        log.append((current_slot().dirty, h._ref.dirty))

    s.spawn(joins_by_hand())
    _run(s)
    child_slot = s.slots[1]
    assert log == [(True, True), "child ends"]
    assert held[0].is_complete() and held[0].result() is None
    assert child_slot.joiners.head is None and child_slot.joiners.count == 0
    assert all(_clean(x) for x in s.slots)


def test_a_batch_of_joins_leaves_every_slot_clean():
    # A batch spawned then joined: the first join parks (joiners: the joined task's
    # completion has a list to see to), the later ones find their tasks done.
    s = StaticScheduler(11)
    results = []

    async def work(i):
        return i if i % 2 else None

    async def driver():
        for _ in range(3):
            hs = [s.spawn(work(i)) for i in range(10)]
            for h in hs:
                results.append(await h)

    s.run_until_complete(driver())
    assert results == [i if i % 2 else None for i in range(10)] * 3
    assert all(_clean(x) for x in s.slots)


def test_a_cancel_in_the_tasks_own_last_poll_is_dropped_and_the_slot_is_clean():
    s = StaticScheduler(1)
    log = []

    async def cancels_itself():
        log.append(s.slots[0].handle.cancel())
        log.append(current_slot().dirty)

    h = s.spawn(cancels_itself())
    _run(s)
    assert log == [True, True] and h.result() is None
    assert _clean(s.slots[0])
    h2 = s.spawn(cancels_itself())  # the same slot: no Cancelled left pending for it
    _run(s)
    assert h2.result() is None and _clean(s.slots[0])
