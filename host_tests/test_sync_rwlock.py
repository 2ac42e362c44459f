# RwLock: its owner checks (a later task in the writer's slot, read_unlock by a non-reader)
# and the requests that could never be granted (LockHeldBySelf instead of a hang).
from shimeji import LockHeldBySelf, LockNotHeld, RwLock, StaticScheduler, yield_now
from support import raises
from synchelp import drain


def test_a_later_task_in_the_writers_slot_cannot_write_unlock():
    s = StaticScheduler(1)  # one slot: the second task reuses the first one's
    rw = RwLock()
    log = []

    async def leaks():
        await rw.write()
        log.append("writing")  # ends without unlocking: the lock stays held

    async def impostor():
        with raises(LockNotHeld):
            rw.write_unlock()
        log.append(rw.is_writing())

    s.spawn(leaks())
    s.tick()
    s.spawn(impostor())
    s.tick()
    assert log == ["writing", True]


# -- a task that asks for what it could never get, and read_unlock's owner check (issue 12) ----


def _writer_again(rw, log):
    async def task():
        async with rw.write():
            try:
                await rw.write()
            except LockHeldBySelf as e:
                log.append(("write again", "not re-entrant" in str(e)))
            try:
                await rw.read()
            except LockHeldBySelf as e:
                log.append(("read while writing", "for writing" in str(e)))
        log.append(("released", rw.is_writing(), rw.readers()))

    return task()


def test_write_twice_and_read_while_writing_raise_lock_held_by_self():
    s = StaticScheduler(4)
    rw = RwLock()
    log = []
    s.spawn(_writer_again(rw, log))
    drain(s)
    assert log == [("write again", True), ("read while writing", True),
                   ("released", False, 0)]
    assert s.run_until_complete(_reads_then_writes(rw)) == "ok"  # the lock still works


async def _reads_then_writes(rw):
    async with rw.read():
        await yield_now()
    async with rw.write():
        await yield_now()
    return "ok"


def test_upgrade_from_read_to_write_raises_and_says_release_the_read_first():
    s = StaticScheduler(4)
    rw = RwLock()
    log = []

    async def upgrader():
        await rw.read()
        try:
            await rw.write()
        except LockHeldBySelf as e:
            log.append("release the read first" in str(e))
        log.append(rw.readers())
        rw.read_unlock()
        await rw.write()  # after releasing the read, writing works
        log.append(rw.is_writing())
        rw.write_unlock()

    s.spawn(upgrader())
    drain(s)
    assert log == [True, 1, True]
    assert (rw.readers(), rw.is_writing()) == (0, False)


def test_read_unlock_refuses_a_task_that_holds_no_read():
    s = StaticScheduler(4)
    rw = RwLock()
    log = []

    async def reader():
        await rw.read()
        log.append("reading")
        for _ in range(3):
            await yield_now()
        rw.read_unlock()
        log.append("released")

    async def thief():
        try:
            rw.read_unlock()
        except LockNotHeld as e:
            log.append(("refused", "holds no read" in str(e)))
        log.append(rw.readers())

    s.spawn(reader())
    s.spawn(thief())
    drain(s)
    assert log == ["reading", ("refused", True), 1, "released"]
    assert rw.readers() == 0
    with raises(LockNotHeld):
        rw.read_unlock()  # nobody reads now: outside a task too


def test_a_reader_may_read_again_behind_a_waiting_writer():
    s = StaticScheduler(4)
    rw = RwLock()
    log = []

    async def reader():
        await rw.read()
        await yield_now()  # the writer queues now
        await rw.read()  # would deadlock behind the writer if it queued
        log.append(("reader", rw.readers()))
        rw.read_unlock()
        rw.read_unlock()

    async def writer():
        async with rw.write():
            log.append("writer")

    s.spawn(reader())
    s.spawn(writer())
    drain(s)
    assert log == [("reader", 2), "writer"]


def test_many_readers_grow_the_table_and_each_releases_its_own():
    s = StaticScheduler(12)
    rw = RwLock()
    log = []

    async def reader(i):
        async with rw.read():
            for _ in range(2):
                await yield_now()
            log.append(i)

    for i in range(10):
        s.spawn(reader(i))
    drain(s)
    assert sorted(log) == list(range(10)) and rw.readers() == 0
