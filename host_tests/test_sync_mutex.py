# Locking an async Mutex twice from the same task is misuse: a clear error, not a hang, and
# the lock, its holder and its waiters are unchanged afterwards.
from shimeji import LockHeldBySelf, Mutex, ShimejiError, StaticScheduler, yield_now
from support import raises


def test_relocking_a_held_mutex_raises_and_changes_nothing():
    s = StaticScheduler(4)
    m = Mutex()
    log = []

    async def relocker():
        async with m:
            try:
                await m.lock()
            except LockHeldBySelf as e:
                log.append(("refused", isinstance(e, ShimejiError)))
            log.append(("still held", m.locked()))
            await yield_now()
        log.append("released")

    async def other():
        async with m:
            log.append("other got it")

    s.spawn(relocker())
    s.spawn(other())
    while s.tick().has_remaining:
        pass
    assert log == [("refused", True), ("still held", True), "released", "other got it"]
    assert not m.locked() and m.waiters() == 0


def test_relock_message_says_why():
    s = StaticScheduler(2)
    m = Mutex()

    async def relocker():
        async with m:
            await m.lock()

    h = s.spawn(relocker())
    while s.tick().has_remaining:
        pass
    with raises(LockHeldBySelf, "not re-entrant"):
        h.result()
    assert not m.locked()
