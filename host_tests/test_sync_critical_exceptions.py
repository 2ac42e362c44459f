# A critical section's exit is certain: an exception inside a primitive's section (a wake that
# fails, a hand-off or grant that raises, a wait queue's callback, a self-deadlock under
# heap_lock) never leaves it held, and nothing waiting is lost. The schedulers' own paths:
# test_sync_critical_exceptions_sched.py.
from criticalhelp import Boom, FailingWake, live_slot, prim_waiter, section_free
from shimeji import (
    Channel,
    Event,
    LockHeldBySelf,
    Mutex,
    RwLock,
    Semaphore,
    StaticScheduler,
    WaitCell,
    WaitMap,
    WaitQueue,
)
from support import IS_MICROPYTHON, heap_locked, raises
from support import thread_section as _section
from synchelp import drain


def test_waitcell_wake_that_raises_leaves_the_section_and_the_waiter_waiting():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(prim_waiter(cell, log, "a"))
    drain(s)
    with FailingWake(live_slot(h)):
        with raises(Boom):
            cell.wake()
    section_free(cs)
    assert cell.waiter is live_slot(h) and not cell.pending  # the wake did not happen
    drain(s)
    assert log == []
    assert cell.wake() is True  # called again, it reaches the task
    drain(s)
    assert log == ["a"]


def test_waitqueue_wake_all_that_raises_midway_loses_no_waiter():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    q = WaitQueue(cs)
    log = []
    hs = [s.spawn(prim_waiter(q, log, n)) for n in ("a", "b", "c")]
    drain(s)
    with FailingWake(live_slot(hs[1])):
        with raises(Boom):
            q.wake_all()
    section_free(cs)
    assert q.count == 2  # b (back at the head) and c still wait
    drain(s)
    assert log == ["a"]
    assert q.wake_all() == 2
    drain(s)
    assert log == ["a", "b", "c"]


def test_event_set_and_close_that_raise_leave_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ev = Event(cs)
    log = []
    h = s.spawn(prim_waiter(ev, log, "a"))
    drain(s)
    with FailingWake(live_slot(h), live_slot(h)):
        with raises(Boom):
            ev.set()
        section_free(cs)
        with raises(Boom):
            ev.close()
    section_free(cs)
    assert ev.waiters() == 1
    ev.set()
    drain(s)
    assert log == ["a"]


async def _acquirer(sem, log, name):
    await sem.acquire(1)
    log.append(name)


def test_semaphore_release_that_raises_keeps_every_permit():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    sem = Semaphore(0, critical_section=cs)
    log = []
    h = s.spawn(_acquirer(sem, log, "a"))
    drain(s)
    with FailingWake(live_slot(h)):
        with raises(Boom):
            sem.release(1)
    section_free(cs)
    assert sem._permits == 1 and sem._q.count == 1  # released, not handed: nothing lost
    assert not sem.try_acquire(1)  # the waiter is first in line for it
    s.spawn(_acquirer(sem, log, "b"))  # the next acquire hands the waiter its permit first
    drain(s)
    assert log == ["a"] and sem._permits == 0 and sem._q.count == 1  # b waits
    sem.release(1)
    drain(s)
    assert log == ["a", "b"] and sem._permits == 0


async def _locker(m, log, name, hold=None):
    async with m:
        log.append(name)
        if hold is not None:
            await hold.wait()


def test_mutex_unlock_whose_hand_off_raises_leaves_the_lock_free_and_the_waiter_first():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    m = Mutex(cs)
    gate = Event(cs)
    log = []
    holder = s.spawn(_locker(m, log, "holder", gate))
    h = s.spawn(_locker(m, log, "waiter"))
    drain(s)
    assert log == ["holder"]
    with FailingWake(live_slot(h)):
        gate.set()
        drain(s)  # the holder's unlock raises, in the holder
    section_free(cs)
    with raises(Boom):
        holder.result()
    assert not m.locked() and m._q.count == 1
    s.spawn(_locker(m, log, "later"))  # the next lock() hands it to the waiter first
    drain(s)
    assert log == ["holder", "waiter", "later"] and not m.locked()


async def _receiver(ch, log):
    log.append(await ch.recv())


def test_channel_send_whose_receiver_wake_raises_keeps_the_item():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ch = Channel(2, critical_section=cs)
    log = []
    h = s.spawn(_receiver(ch, log))
    drain(s)
    with FailingWake(live_slot(h)):
        with raises(Boom):
            ch.try_send("x")
    section_free(cs)
    assert ch._count == 0 and ch._items_held == 0  # not sent: send again
    assert ch._receivers.count == 1  # the receiver still waits
    assert ch.try_send("x")
    drain(s)
    assert log == ["x"] and ch.try_recv() is None


async def _sender(ch, item, log):
    await ch.send(item)
    log.append(item)


def test_channel_recv_whose_sender_wake_raises_keeps_the_item():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ch = Channel(1, critical_section=cs)
    log = []
    assert ch.try_send("a")
    h = s.spawn(_sender(ch, "b", log))  # the channel is full: it waits
    drain(s)
    with FailingWake(live_slot(h)):
        with raises(Boom):
            ch.try_recv()
    section_free(cs)
    assert ch._count == 1 and ch._senders.count == 1  # nothing taken, the sender waits
    assert ch.try_recv() == "a"  # taken again: the sender is woken now
    drain(s)
    assert log == ["b"] and ch.try_recv() == "b"


def test_rwlock_self_deadlock_under_heap_lock_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    rw = RwLock(cs)
    out = []

    async def twice():
        async with rw.write():
            try:
                await rw.read()
            except LockHeldBySelf as e:
                out.append(type(e))
            except MemoryError as e:  # under heap_lock: the message is made outside
                out.append(type(e))

    s.spawn(twice())
    if IS_MICROPYTHON:
        heap_locked(drain, s)
    else:
        drain(s)
    section_free(cs)
    assert out and out[0] in (LockHeldBySelf, MemoryError)
    assert not rw._writing


def test_a_wait_queue_callback_that_raises_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    calls = []

    def on_leave():
        calls.append("leave")
        raise Boom("on_leave failed")

    q = WaitQueue(cs, on_leave=on_leave)
    log = []
    h = s.spawn(prim_waiter(q, log, "a"))
    s.spawn(prim_waiter(q, log, "b"))
    drain(s)
    slot = live_slot(h)
    with raises(Boom):
        q.remove(slot)  # what a cancellation of a waiter calls
    section_free(cs)
    assert calls == ["leave"] and q.count == 1  # a left the queue before the callback
    slot.waiting_on = None  # (a left; the test stands in for its cancellation)
    q.wake_all()
    drain(s)
    assert log == ["b"]


async def _map_waiter(wm, key, log):
    log.append(await wm.wait(key))


def test_waitmap_wake_that_raises_leaves_the_section_and_the_waiter_waiting():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    wm = WaitMap(cs)
    log = []
    h = s.spawn(_map_waiter(wm, 7, log))
    drain(s)
    with FailingWake(live_slot(h)):
        with raises(Boom):
            wm.wake(7, "v")
    section_free(cs)
    assert wm.is_waiting(7)  # still the key's waiter
    section_free(cs)
    assert wm.wake(7, "w") is True
    drain(s)
    assert log == ["w"]


def test_rwlock_write_unlock_whose_grant_raises_leaves_the_lock_free_for_the_readers():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    rw = RwLock(cs)
    gate = Event(cs)
    log = []

    async def writer():
        async with rw.write():
            log.append("w")
            await gate.wait()

    async def reader(name):
        async with rw.read():
            log.append(name)

    w = s.spawn(writer())
    h = s.spawn(reader("r1"))
    drain(s)
    with FailingWake(live_slot(h)):
        gate.set()
        drain(s)  # the writer's unlock raises, in the writer
    section_free(cs)
    with raises(Boom):
        w.result()
    assert not rw._writing and rw._readers == 0 and rw._q.count == 1  # r1 still waits
    s.spawn(reader("r2"))  # the next acquire admits r1 first, then reads itself at once
    drain(s)
    assert log == ["w", "r2", "r1"] and not rw._writing and rw._readers == 0
