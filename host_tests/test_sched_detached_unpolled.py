# A detached spawn from outside any task (sched/detached.py's FIFO-queue case) leaves the slot's
# state word FREE until the task's first poll, as spawn's in-line case does (task/words.py
# W_STATE): the slot is live by its coroutine. What must hold before that poll: state_of reads
# QUEUED, a wake does nothing (the task runs once, in order), close() ends it. Both runtimes.
from shimeji import StaticScheduler, core
from shimeji.task.words import W_STATE, state_of

_FREE = 0
_QUEUED = 1


async def note(log, name):
    try:
        log.append(name)
    finally:
        log.append("end " + name)


def test_a_detached_spawn_waits_free_and_reads_queued():
    s = StaticScheduler(4)
    log = []
    s.spawn_detached(note(log, "a"))
    slot = s.slots[0]
    assert slot.w[W_STATE] == _FREE
    assert state_of(slot) == _QUEUED
    assert s.live_count() == 1
    s.close()  # (its coroutine closed, never started)


def test_a_wake_before_the_first_poll_does_nothing():
    s = StaticScheduler(4)
    log = []
    s.spawn_detached(note(log, "a"))
    s.spawn_detached(note(log, "b"))
    core.wake(s.slots[0])
    core.wake(s.slots[0])
    t = s.tick()
    assert (t.polled, t.completed) == (2, 2)
    assert log == ["a", "end a", "b", "end b"]
    assert not s.tick().has_remaining
    assert s.slots[0].w[W_STATE] == _FREE and s.slots[0].coro is None


def test_close_before_the_first_poll_ends_it():
    s = StaticScheduler(4)
    log = []
    s.spawn_detached(note(log, "a"))
    s.close()
    assert s.live_count() == 0
    assert log == []  # never started: close() closes the coroutine before its first line
