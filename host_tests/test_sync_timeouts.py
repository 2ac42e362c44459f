# Timeouts around the sync primitives: a waiter that times out leaves the wait at once, and
# no item, permit or lock is lost or handed to it afterwards.
from shimeji import (
    Channel,
    FakeClock,
    Mutex,
    Semaphore,
    StaticScheduler,
    Timeout,
    Timer,
    sleep_ms,
    timeout,
)


def make():
    clock = FakeClock((1 << 30) - 5_000)  # a board that has been up for a long time
    timer = Timer(clock)
    return clock, timer, StaticScheduler(8, timer=timer)


def run_ms(clock, timer, s, ms):
    for _ in range(ms):
        timer.turn()
        s.tick()
        clock.advance(1)


def test_recv_that_times_out_loses_no_item():
    clock, timer, s = make()
    ch = Channel(2)
    log = []

    async def impatient():
        try:
            await timeout(ch.recv(), 10)
        except Timeout:
            log.append("timed out")

    async def patient():
        log.append(("got", await ch.recv()))

    s.spawn(impatient())
    run_ms(clock, timer, s, 15)
    assert log == ["timed out"]
    assert ch.try_send("late item")  # arrives after the timeout: must not go to the dead waiter
    s.spawn(patient())
    run_ms(clock, timer, s, 3)
    assert log == ["timed out", ("got", "late item")]


def test_lock_wait_that_times_out_leaves_the_queue():
    clock, timer, s = make()
    m = Mutex()
    log = []

    async def holder():
        async with m:
            await sleep_ms(10)
            log.append("holder releases")

    async def waiter():
        try:
            await timeout(m.lock(), 3)
            log.append("waiter got it")
            m.unlock()
        except Timeout:
            log.append("waiter gave up")

    async def latecomer():
        async with m:
            log.append("latecomer got it")

    s.spawn(holder())
    s.tick(1)
    s.spawn(waiter())
    s.tick()
    assert m.waiters() == 1
    run_ms(clock, timer, s, 5)
    assert "waiter gave up" in log and m.waiters() == 0
    s.spawn(latecomer())
    run_ms(clock, timer, s, 10)
    assert log == ["waiter gave up", "holder releases", "latecomer got it"]
    assert not m.locked()


def test_semaphore_permits_survive_timed_out_acquire():
    clock, timer, s = make()
    sem = Semaphore(1)
    log = []

    async def want_two():
        try:
            await timeout(sem.acquire(2), 5)
        except Timeout:
            log.append("gave up on 2")

    s.spawn(want_two())
    run_ms(clock, timer, s, 8)
    assert log == ["gave up on 2"]
    assert sem.try_acquire(1)  # the single permit is still there
    sem.release(1)
