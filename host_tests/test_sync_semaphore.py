# Semaphore: FIFO multi-permit grants without starvation, a cancelled waiter and a grant to a
# cancelled task, misuse and close, async with limiting concurrency, and permits that stay
# small ints at the limit.
from shimeji import InvalidPermits, PrimitiveClosed, Semaphore, StaticScheduler, yield_now
from shimeji.sync.semaphore import MAX_PERMITS
from support import raises
from synchelp import drain

# -- Semaphore ----------------------------------------------------------------------------------


async def take(sem, n, log, name):
    try:
        await sem.acquire(n)
        log.append(name)
    except PrimitiveClosed:
        log.append(name + " closed")


def test_semaphore_fifo_multi_permit_no_starvation():
    s = StaticScheduler(8)
    sem = Semaphore(1)
    log = []
    s.spawn(take(sem, 3, log, "big"))
    s.spawn(take(sem, 1, log, "small"))
    drain(s)
    assert log == [] and sem.available() == 1  # small waits behind big: no overtaking
    assert sem.try_acquire(1) is False  # nor may try_acquire overtake the waiters
    sem.release(1)
    drain(s)
    assert log == []
    sem.add_permits(1)
    drain(s)
    assert log == ["big"] and sem.available() == 0
    sem.release(1)
    drain(s)
    assert log == ["big", "small"] and sem.available() == 0


def test_semaphore_cancelled_waiter_and_grant_to_a_cancelled_task():
    s = StaticScheduler(8)
    sem = Semaphore(0)
    log = []
    ha = s.spawn(take(sem, 2, log, "a"))
    hb = s.spawn(take(sem, 1, log, "b"))
    s.spawn(take(sem, 1, log, "c"))
    drain(s)
    hb.cancel()
    assert sem.waiters() == 2
    sem.release(2)  # granted to a ...
    ha.cancel()  # ... which is cancelled before it resumes: its 2 permits come back
    drain(s)
    assert log == ["c"] and sem.available() == 1


def test_semaphore_misuse_and_close():
    with raises(InvalidPermits):
        Semaphore(-1)
    sem = Semaphore(1)
    with raises(InvalidPermits, "0 to"):
        sem.release(-2)
    with raises(InvalidPermits):
        sem.try_acquire(-1)
    with raises(InvalidPermits, "MAX_PERMITS"):
        sem.release(MAX_PERMITS)
    assert sem.available() == 1  # unchanged by the refused calls
    s = StaticScheduler(4)
    log = []
    s.spawn(take(sem, 2, log, "a"))
    drain(s)
    sem.close()
    drain(s)
    s.spawn(take(sem, 1, log, "b"))
    drain(s)
    assert log == ["a closed", "b closed"] and not sem.try_acquire()


def test_semaphore_async_with_limits_concurrency():
    s = StaticScheduler(12)
    sem = Semaphore(3)
    inside = [0, 0]

    async def worker():
        async with sem:
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
            await yield_now()
            await yield_now()
            inside[0] -= 1

    for _ in range(10):
        s.spawn(worker())
    drain(s)
    assert inside == [0, 3] and sem.available() == 3


def test_semaphore_permits_stay_small_ints_at_the_limit():
    sem = Semaphore(MAX_PERMITS)
    with raises(InvalidPermits, "MAX_PERMITS"):
        sem.release(1)
    assert sem.try_acquire(MAX_PERMITS) and sem.available() == 0
    sem.release(MAX_PERMITS)
    assert sem.available() == MAX_PERMITS == (1 << 30) - 1
    with raises(InvalidPermits):
        Semaphore(MAX_PERMITS + 1)
