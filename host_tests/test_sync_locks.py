# Mutex and RwLock: fairness, exclusion under many tasks, cancellation, misuse, the
# priority-inheritance hook, and async with releasing a closed or collected holder's lock.
# Semaphore: test_sync_semaphore.py.
from gate import Gate
from shimeji import LockNotHeld, Mutex, RwLock, Semaphore, StaticScheduler, yield_now
from support import raises
from synchelp import RecordingPolicy, drain


async def hold(m, gate, log, name):
    await m.lock()
    log.append(name + "+")
    await gate
    log.append(name + "-")
    m.unlock()


# -- Mutex --------------------------------------------------------------------------------------


def test_mutex_is_fifo_and_the_releaser_cannot_barge():
    s = StaticScheduler(8)
    m = Mutex()
    log = []

    async def worker(name, rounds):
        for _ in range(rounds):
            async with m:
                log.append(name)
                await yield_now()

    for name in "abc":
        s.spawn(worker(name, 2))
    drain(s)
    assert log == ["a", "b", "c", "a", "b", "c"]
    assert not m.locked()


def test_mutex_mutual_exclusion_under_many_tasks():
    s = StaticScheduler(24)
    m = Mutex()
    inside = [0, 0]  # now, most ever
    total = [0]

    async def worker(i):
        for k in range(5):
            await m.lock()
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
            for _ in range((i + k) % 3):
                await yield_now()
            total[0] += 1
            inside[0] -= 1
            m.unlock()
            await yield_now()

    hs = [s.spawn(worker(i)) for i in range(24)]
    drain(s, 5000)
    assert [h.is_complete() for h in hs] == [True] * 24
    assert (inside, total) == ([0, 1], [120])


def test_mutex_cancel_while_waiting_and_handoff_to_a_cancelled_task():
    s = StaticScheduler(8)
    m = Mutex()
    log = []
    ga, gb, gc = Gate(), Gate(), Gate()
    s.spawn(hold(m, ga, log, "a"))
    hb = s.spawn(hold(m, gb, log, "b"))
    hc = s.spawn(hold(m, gc, log, "c"))
    s.spawn(hold(m, Gate(), log, "d"))
    drain(s)
    hb.cancel()  # waiting: leaves the queue at once
    assert m.waiters() == 2
    drain(s)
    ga.open()
    s.tick(1)  # a unlocks: the lock is handed to c, which has not run yet
    assert log == ["a+", "a-"] and m._holder is hc._live_slot()
    hc.cancel()  # ...and c is cancelled before it resumes: the lock goes on to d
    drain(s)
    assert log == ["a+", "a-", "d+"]
    assert hb.is_cancelled() and hc.is_cancelled()


def test_mutex_misuse_errors_leave_it_working():
    s = StaticScheduler(4)
    m = Mutex()
    with raises(LockNotHeld, "only the task that acquired it"):
        m.unlock()
    log = []
    g = Gate()
    s.spawn(hold(m, g, log, "a"))

    async def thief():
        m.unlock()

    h = s.spawn(thief())
    drain(s)
    with raises(LockNotHeld):
        h.result()
    assert m.locked()
    g.open()
    drain(s)
    assert not m.locked() and log == ["a+", "a-"]
    assert m.try_lock() and not m.try_lock()
    m.unlock()  # locked outside any task: released outside any task


def test_mutex_priority_inheritance_hook():
    pol = RecordingPolicy()
    s = StaticScheduler(4, policy=pol)
    m = Mutex()
    log = []
    g = Gate()
    ha = s.spawn(hold(m, g, log, "a"))
    hb = s.spawn(hold(m, Gate(), log, "b"))
    drain(s)
    assert pol.events == [("loan", ha.id, hb.id)]
    g.open()
    drain(s)
    # a's loan ends; b, the new holder, has no waiters behind it to lend it anything
    assert pol.events == [("loan", ha.id, hb.id), ("loan", ha.id, 0), ("loan", hb.id, 0)]
    assert m.try_lock() is False  # b holds it now
    m2 = Mutex()
    assert m2.try_lock()  # held outside any task: a waiter lends its priority to nobody

    async def waits():
        await m2.lock()

    s.spawn(waits())
    drain(s)
    assert len(pol.events) == 3


# -- RwLock -------------------------------------------------------------------------------------


def test_rwlock_readers_share_writers_exclude_and_do_not_starve():
    s = StaticScheduler(8)
    rw = RwLock()
    log = []
    gates = {}

    async def reader(name):
        g = gates[name] = Gate()
        async with rw.read():
            log.append(name + "+")
            await g
            log.append(name + "-")

    async def writer(name):
        g = gates[name] = Gate()
        async with rw.write():
            log.append(name + "+")
            await g
            log.append(name + "-")

    s.spawn(reader("r1"))
    s.spawn(reader("r2"))
    s.spawn(writer("w1"))
    s.spawn(reader("r3"))  # arrives after w1: waits behind it
    drain(s)
    assert log == ["r1+", "r2+"] and rw.readers() == 2
    assert rw.try_read() is False  # a writer waits: no overtaking
    gates["r1"].open()
    drain(s)
    gates["r2"].open()
    drain(s)
    assert log == ["r1+", "r2+", "r1-", "r2-", "w1+"] and rw.is_writing()
    gates["w1"].open()
    drain(s)
    gates["r3"].open()
    drain(s)
    assert log[-3:] == ["w1-", "r3+", "r3-"]
    assert rw.readers() == 0 and not rw.is_writing()


def test_rwlock_grant_to_a_cancelled_writer_is_passed_on():
    s = StaticScheduler(8)
    rw = RwLock()
    assert rw.try_read()
    log = []

    async def writer(name):
        await rw.write()
        log.append(name)
        rw.write_unlock()

    async def reader(name):
        await rw.read()
        log.append(name)
        rw.read_unlock()

    hw = s.spawn(writer("w"))
    s.spawn(reader("r"))
    drain(s)
    rw.read_unlock()  # grants w...
    hw.cancel()  # ...cancelled before it resumes: r gets in
    drain(s)
    assert log == ["r"] and rw.readers() == 0 and not rw.is_writing()


def test_rwlock_misuse():
    rw = RwLock()
    with raises(LockNotHeld, "read()"):
        rw.read_unlock()
    with raises(LockNotHeld, "writer"):
        rw.write_unlock()
    assert rw.try_write() and not rw.try_read() and not rw.try_write()
    rw.write_unlock()
    assert rw.try_read() and rw.try_read() and not rw.try_write()


def test_async_with_releases_when_the_scheduler_closes_the_holder():
    s = StaticScheduler(8)
    m = Mutex()
    rw = RwLock()
    sem = Semaphore(1)
    log = []

    async def holder():
        async with m:
            async with rw.write():
                async with sem:
                    await Gate()

    async def waiter():
        async with m:
            log.append("never")

    s.spawn(holder())
    s.spawn(waiter())
    drain(s)
    assert m.locked() and rw.is_writing() and sem.available() == 0
    s.close()  # closes both coroutines outside any task: the guards still release
    assert not m.locked() and not rw.is_writing() and sem.available() == 1
    assert m.waiters() == 0 and log == []


def test_async_with_releases_when_a_holder_is_garbage_collected_mid_tick():
    # The collector may close an abandoned coroutine while another task runs: its guard must
    # still release (GeneratorExit), not mistake the running task for the caller.
    s = StaticScheduler(4)
    m = Mutex()

    async def holder():
        async with m:
            await Gate()

    coro = holder()
    h = s.spawn(coro)
    drain(s)
    assert m.locked()
    closed = []

    async def closer():
        coro.close()  # what the collector does, from inside another task's poll
        closed.append(m.locked())

    s.spawn(closer())
    drain(s)
    assert closed == [False]
    h.cancel()
    drain(s)
