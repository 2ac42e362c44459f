# A cancelled waiter at the head of a queue must not strand what it was blocking: the
# waiters behind it that now fit are admitted at once.
from shimeji import RwLock, Semaphore, StaticScheduler, yield_now


def drain(s):
    while s.tick().has_remaining:
        pass


def test_semaphore_admits_the_next_waiter_when_the_blocking_head_leaves():
    s = StaticScheduler(4)
    sem = Semaphore(2)
    log = []

    async def wants(n, tag):
        await sem.acquire(n)
        log.append(tag)

    big = s.spawn(wants(3, "big"))  # blocks: only 2 free
    s.spawn(wants(1, "small"))  # fits, but FIFO keeps it behind "big"
    drain(s)
    assert log == [] and sem.waiters() == 2
    big.cancel()
    drain(s)
    assert log == ["small"]
    assert sem.available() == 1 and sem.waiters() == 0


def test_rwlock_admits_readers_when_the_waiting_writer_leaves():
    s = StaticScheduler(4)
    rw = RwLock()
    log = []

    async def reader(tag, hold):
        async with rw.read():
            log.append(tag)
            for _ in range(hold):
                await yield_now()

    async def writer():
        async with rw.write():
            log.append("writer")

    s.spawn(reader("r1", 1000))  # holds a read lock for a long time
    s.tick(1)
    w = s.spawn(writer())  # waits for r1
    s.spawn(reader("r2", 0))  # fair: queued behind the writer
    s.tick(3)
    assert log == ["r1"]
    w.cancel()
    s.tick(3)
    assert log == ["r1", "r2"]
