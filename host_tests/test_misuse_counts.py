# Counts given ``True`` (or ``False``), and a Channel too large for the heap (left by session
# 25). A bool is an int on CPython (``isinstance(True, int)``) and not on MicroPython, so
# ``StaticScheduler(True)``, ``Channel(True)``, ``Semaphore(True)``, ``release(True)``, the
# policies' ``slice_us``/``levels``/nice values, ``Timer(tick_us=True)`` and
# ``Trace(size=True)`` were taken on CPython and refused on MicroPython. Now each is refused on
# both, with the error that says what to give (as ``tick(n)`` and ``int_arg`` already did).
# ``shimeji.asyncio.Semaphore(True)`` is CPython's ``Semaphore(1)`` on both runtimes.
# ``Channel(2**40)`` raised MemoryError (its ring is made at once): now InvalidCapacity past
# 2**30 - 1 (its counts stay small ints on a board), and where the heap has no room for the
# ring. Afterwards the same objects work with good counts.
from shimeji import (
    BadPriority,
    CfsPolicy,
    Channel,
    InvalidCapacity,
    InvalidPermits,
    PolicyError,
    PriorityPolicy,
    RoundRobinPolicy,
    Semaphore,
    StaticScheduler,
    Timer,
    TimerConfigError,
    Trace,
    TraceError,
    yield_now,
)
from support import IS_MICROPYTHON, raises


def test_a_bool_is_no_count_for_the_constructors():
    for bad in (True, False):
        with raises(InvalidCapacity, "got %r" % (bad,)):
            StaticScheduler(bad)
        with raises(InvalidCapacity, "(got %r)" % (bad,)):
            Channel(bad)
        with raises(InvalidPermits, "got %r" % (bad,)):
            Semaphore(bad)
        with raises(PolicyError, "got %r" % (bad,)):
            RoundRobinPolicy(slice_us=bad)
        with raises(PolicyError, "got %r" % (bad,)):
            PriorityPolicy(levels=bad)
        with raises(PolicyError, "got %r" % (bad,)):
            CfsPolicy(granularity_us=bad)
        with raises(TimerConfigError, "tick_us"):
            Timer(tick_us=bad)
        with raises(InvalidCapacity, "Trace(size=%r)" % (bad,)):
            Trace(size=bad)
    assert StaticScheduler(1).capacity == 1 and Channel(1).capacity == 1


def test_a_bool_is_no_permit_count_and_the_semaphore_keeps_its_permits():
    sem = Semaphore(2)
    for call in (sem.release, sem.try_acquire):
        with raises(InvalidPermits, "got True"):
            call(True)
    with raises(InvalidPermits, "got True"):
        sem.acquire(True)
    assert sem.try_acquire(2) and not sem.try_acquire(1)  # the two permits, no more, no less
    sem.release(2)
    assert sem.try_acquire(1)


def test_a_bool_is_no_priority_and_the_task_keeps_its_own():
    s = StaticScheduler(2, policy=CfsPolicy())

    async def work():
        await yield_now()
        return 3

    h = s.spawn(work())
    with raises(BadPriority, "Got True"):
        s.set_priority(h, True)
    assert s.set_priority(h, 5)
    s.tick()
    s.tick()
    assert h.result() == 3
    p = StaticScheduler(2, policy=PriorityPolicy(levels=4))
    h = p.spawn(work())
    with raises(BadPriority, "got True"):
        p.set_priority(h, True)
    p.tick()
    p.tick()
    assert h.result() == 3


def test_a_trace_mark_of_a_bool_is_refused():
    s = StaticScheduler(2)
    t = Trace(16)
    t.attach(s)
    with raises(TraceError, "got True"):
        t.mark(True)
    t.mark(1)
    t.detach()
    assert [r[3] for r in t.records()] == [1]


def test_the_facade_semaphore_takes_a_bool_as_cpython_does():
    from shimeji import asyncio as aio

    sem = aio.Semaphore(True)
    assert not sem.locked()

    async def main():
        async with sem:
            assert sem.locked()
        return "ok"

    assert aio.run(main()) == "ok"


def test_a_channel_past_the_small_int_range_is_invalid_capacity():
    for bad in (2**30, 2**40):
        with raises(InvalidCapacity, "at least 1, at most 1073741823"):
            Channel(bad)
    ch = Channel(2)
    assert ch.try_send(1) and ch.try_send(2) and not ch.try_send(3)


def test_a_channel_the_heap_has_no_room_for_is_invalid_capacity():
    if not IS_MICROPYTHON:
        return  # (CPython would try to make the 8 GB ring: the heap here is MicroPython's)
    with raises(InvalidCapacity, "no room for a ring of 536870912 items"):
        Channel(2**29)
    ch = Channel(4)  # and the heap is still usable
    assert ch.try_send("x") and ch.try_recv() == "x"
