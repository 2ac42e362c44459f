# The FIFO tick's in-line completion (a task that returned None) clears a slot's wait fields
# only when wait_phase is set (sched/fastpath.py's design note). What that relies on: every
# wait that ends, normally or by an error, leaves wait_phase and wait_status 0 together; a task
# that ends inside a wait it drove by hand is taken off its wait list and cleared; and the
# wait_key / wait_value an awaitable made but never awaited leaves behind do not change what
# the slot's next task gets from any primitive.
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
from shimeji.errors import PrimitiveClosed


def _run(s):
    while s.tick().has_remaining:
        pass


def _clean(log, what):
    me = current_slot()
    log.append((what, me.wait_phase, me.wait_status))


def test_every_wait_that_ends_leaves_phase_and_status_zero():
    s = StaticScheduler(4)
    log = []
    ev, sem, mx, rw = Event(), Semaphore(0), Mutex(), RwLock()
    ch, wm, wq, cell = Channel(1), WaitMap(), WaitQueue(), WaitCell()
    closing, let_go = Event(), Event()

    async def holder():  # holds the Mutex, then a read lock, until let go each time
        async with mx:
            await let_go.wait()
        let_go.clear()
        async with rw.read():
            await let_go.wait()

    async def child():
        await yield_now()

    async def waiter():
        await ev.wait()
        _clean(log, "event")
        await sem.acquire(2)
        _clean(log, "semaphore")
        async with mx:
            _clean(log, "mutex")
        async with rw.write():
            _clean(log, "rwlock")
        log.append(("recv", await ch.recv()))
        _clean(log, "channel recv")
        await ch.send(1)
        await ch.send(2)  # full: waits until the test takes the first
        _clean(log, "channel send")
        log.append(("map", await wm.wait("k")))
        _clean(log, "waitmap")
        await wq.wait()
        _clean(log, "waitqueue")
        await cell.wait()
        _clean(log, "waitcell")
        try:
            await closing.wait()
        except PrimitiveClosed:
            _clean(log, "closed event")
        await s.spawn(child())
        _clean(log, "join")

    s.spawn(holder())
    s.spawn(waiter())
    for act in (ev.set, lambda: sem.release(2), let_go.set, let_go.set,
                lambda: ch.try_send("x"), lambda: log.append(("took", ch.try_recv())),
                lambda: wm.wake("k", 7), wq.wake, cell.wake, closing.close):
        _run(s)
        assert s.live_count() > 0
        act()
    _run(s)
    names = ["event", "semaphore", "mutex", "rwlock", "channel recv", "channel send",
             "waitmap", "waitqueue", "waitcell", "closed event", "join"]
    assert [e for e in log if e[0] in names] == [(n, 0, 0) for n in names]
    assert [e for e in log if e[0] not in names] == [("recv", "x"), ("took", 1), ("map", 7)]
    assert s.live_count() == 0 and ch.try_recv() == 2


def test_a_task_that_ends_inside_a_wait_it_drove_by_hand_is_cleared():
    s = StaticScheduler(1)
    ev = Event()
    got = []

    async def leaves_a_wait():
        aw = ev.wait()
        aw.__next__()  # linked on the event's queue, wait_phase 1; then it returns
        got.append(current_slot().wait_phase)

    s.spawn(leaves_a_wait())
    _run(s)
    slot = s.slots[0]
    assert got == [1] and ev.waiters() == 0 and slot.waiting_on is None
    assert (slot.wait_phase, slot.wait_status, slot.wait_key, slot.wait_value) == (0, 0, None,
                                                                                   None)
    s2 = StaticScheduler(3)
    order = []

    async def child():
        await yield_now()
        return 5

    async def parent():  # the same slot's next task: a join and an event wait work as new
        order.append(await s2.spawn(child()))
        await ev.wait()
        order.append("set")

    s2.spawn(parent())
    _run(s2)
    ev.set()
    _run(s2)
    assert order == [5, "set"]


def test_awaitables_made_and_never_awaited_change_nothing_for_the_slots_next_task():
    s = StaticScheduler(1)
    sem, ch, wm = Semaphore(1), Channel(2), WaitMap()
    log = []

    async def makes_and_drops():
        sem.acquire(3)  # each stores into the slot when made; none is awaited
        ch.send(["item"])
        wm.wait("old")

    async def next_task():  # the same slot: what each primitive gives it is its own
        await sem.acquire()
        log.append(("permits", sem.available()))
        sem.release()
        await ch.send("new")
        log.append(("channel", ch.try_recv(), ch.is_empty()))
        log.append(("map", await wm.wait("key")))

    s.spawn(makes_and_drops())
    _run(s)
    assert sem.available() == 1 and ch.is_empty() and wm.waiters() == 0
    s.spawn(next_task())
    _run(s)
    assert wm.is_waiting("key") and not wm.is_waiting("old")
    wm.wake("key", "a")
    _run(s)
    assert log == [("permits", 0), ("channel", "new", True), ("map", "a")]
    assert s.live_count() == 0 and sem.available() == 1 and ch.is_empty()
