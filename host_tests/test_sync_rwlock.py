# RwLock's writer check tells a task from a later task in the same slot.
from shimeji import LockNotHeld, RwLock, StaticScheduler
from support import raises


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
