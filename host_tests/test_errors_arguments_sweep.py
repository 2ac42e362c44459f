"""The public API's argument refusals found by session 23's sweep (docs/sync.md, "Errors").

A sweep called the README's and docs' entry points with None, -1, 0, 1.5, a string, a list,
2**40, True and a bare object. These gave a bare ``AttributeError`` or ``TypeError`` (some of
them from inside a held critical section) and now raise ``BadArgument`` saying what to give,
before anything changed; afterwards the same object works. And a ``Semaphore``'s permit
refusals, which interrupt handlers may meet (``release``, ``try_acquire``), raise
``InvalidPermits`` on a locked heap too, not ``MemoryError``.
"""

from shimeji import (
    BadArgument,
    BlockingMutex,
    Channel,
    CriticalSectionRawMutex,
    Event,
    InvalidPermits,
    Mutex,
    PriorityPolicy,
    RwLock,
    Semaphore,
    StaticScheduler,
    WaitCell,
    WaitMap,
    WaitQueue,
    task_stats,
    yield_now,
)
from shimeji.sync.critical import IrqCriticalSection, NoCriticalSection
from shimeji.sync.semaphore import MAX_PERMITS
from support import IS_MICROPYTHON, raises, thread_section
from synchelp import StateMachine

micropython = __import__("micropython")  # (under CPython: the stand-in shimeji installed)


async def _value(v):
    await yield_now()
    return v


def test_a_critical_section_argument_without_enter_is_refused_by_every_primitive():
    makers = (
        ("StaticScheduler", lambda cs: StaticScheduler(2, critical_section=cs)),
        ("WaitQueue", lambda cs: WaitQueue(cs)),
        ("WaitCell", lambda cs: WaitCell(cs)),
        ("WaitMap", lambda cs: WaitMap(cs)),
        ("Event", lambda cs: Event(cs)),
        ("Mutex", lambda cs: Mutex(cs)),
        ("RwLock", lambda cs: RwLock(cs)),
        ("Semaphore", lambda cs: Semaphore(1, cs)),
        ("Channel", lambda cs: Channel(2, cs)),
        ("CriticalSectionRawMutex", lambda cs: CriticalSectionRawMutex(cs)),
    )
    for name, make in makers:
        for bad in (5, "cs", [1]):
            with raises(BadArgument, "critical_section=%r" % (bad,)):
                make(bad)
        assert make(None) is not None, name  # (the default section: works as before)


def test_set_priority_and_task_stats_refuse_what_is_not_a_handle():
    sched = StaticScheduler(2, policy=PriorityPolicy())
    for bad in (None, 3, "h"):
        with raises(BadArgument, "what spawn() returned"):
            sched.set_priority(bad, 1)
        with raises(BadArgument, "what spawn() returned"):
            task_stats(bad)
    h = sched.spawn(_value(4))
    assert sched.set_priority(h, 1) is True and task_stats(h) == (0, 0, 0, 0)
    sched.tick()
    assert h.result() == 4


def test_an_io_poller_refuses_what_is_not_a_scheduler():
    from shimeji import IOPoller

    for bad in (None, 7, "sched"):
        with raises(BadArgument, "IOPoller(sched)"):
            IOPoller(bad)
    IOPoller(StaticScheduler(2)).close()


def test_a_run_loop_refuses_what_is_not_a_scheduler():
    from shimeji import RunLoop

    for bad in (None, 7, "sched"):
        with raises(BadArgument, "RunLoop(sched)"):
            RunLoop(bad)
    async def task():
        await yield_now()
        return "ran"

    s = StaticScheduler(2)  # and a scheduler still runs afterwards
    assert RunLoop(s).run(s.spawn(task())) == "ran"


def test_with_lock_refuses_what_cannot_be_called_before_it_locks():
    m = BlockingMutex([])
    for bad in (None, 3, "fn"):
        with raises(BadArgument, "with_lock(fn)"):
            m.with_lock(bad)
        with raises(BadArgument, "try_with_lock(fn)"):
            m.try_with_lock(bad)
        assert not m.is_locked()
    assert m.with_lock(lambda v: v.append(1) or len(v)) == 1


def test_a_wake_given_what_is_not_a_slot_leaves_the_section_free():
    # It raised AttributeError inside the section and left it held: on a board interrupts
    # masked for good, on the unix port the next thread to enter it waited forever. Then the
    # slot's words were read first; since session 26 it is BadArgument, before the section
    # (test_misuse_sched_wake.py).
    from shimeji import InterruptScheduler

    for cs in (thread_section(), IrqCriticalSection(StateMachine()), NoCriticalSection()):
        for sched in (StaticScheduler(2, critical_section=cs),
                      InterruptScheduler(2, critical_section=cs)):
            for bad in (None, 3):
                with raises(BadArgument, "wake(slot): give the task's TaskSlot"):
                    sched.wake(bad)
                assert not cs.held(), (type(cs).__name__, type(sched).__name__)
            if type(sched) is StaticScheduler:
                h = sched.spawn(_value(5))
                sched.tick()
                assert h.result() == 5


def test_an_irq_critical_section_refuses_a_module_without_disable_irq():
    # It raised a bare AttributeError (session 23's "left": critical.py was at 350 lines).
    class HalfMachine:
        disable_irq = StateMachine().disable_irq  # (no enable_irq)

    for bad in (3, object(), HalfMachine()):
        with raises(BadArgument, "disable_irq/enable_irq: give the machine module"):
            IrqCriticalSection(bad)
    cs = IrqCriticalSection(StateMachine())  # a stand-in with both: works as before
    with cs:
        assert cs.held()
    assert not cs.held()


def test_the_public_tick_arithmetic_refuses_what_is_not_a_tick():
    # A float gave a float, a string a bare TypeError, 2**30 a wrong tick.
    import shimeji
    import shimeji.time

    for pkg in (shimeji, shimeji.time):
        for bad in ((1.5, 2), ("a", 1), (1, None), (-1, 0), (1 << 30, 0), (True, 1)):
            with raises(BadArgument, "give two ticks"):
                pkg.wrap_add(*bad)
        for bad in ((1.5, 2), ("a", 1), (1, None)):
            with raises(BadArgument, "give two ticks"):
                pkg.wrap_diff(*bad)
        assert pkg.wrap_add(0x3FFFFFFF, 2) == 1 and pkg.wrap_diff(1, 0x3FFFFFFF) == 2


def test_permit_refusals_on_a_locked_heap_are_invalid_permits_not_memory_errors():
    sem = Semaphore(1)
    release = sem.release
    try_acquire = sem.try_acquire
    got = [None] * 3
    calls = ((release, -1), (try_acquire, -2), (release, MAX_PERMITS))  # (made first)
    if IS_MICROPYTHON:
        micropython.heap_lock()  # what an interrupt handler runs with
    try:
        for i in range(3):
            try:
                calls[i][0](calls[i][1])
            except Exception as e:  # noqa: BLE001 (its class is the subject)
                got[i] = e
    finally:
        if IS_MICROPYTHON:
            micropython.heap_unlock()
    assert [type(e) for e in got] == [InvalidPermits] * 3, got
    with raises(InvalidPermits, "release(n) must be an int from 0"):
        sem.release(-1)  # (with a heap: the message names the call and the value)
    assert sem.try_acquire(1) and not sem.try_acquire(1)  # nothing was added or taken
    sem.release(1)
    assert sem.try_acquire(1)
