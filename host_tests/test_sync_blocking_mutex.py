# The blocking Mutex over a critical section or a raw mutex of the user's: with_lock, no
# re-entry, try_lock and unlock across threads, IRQ masking while held, and no allocation.
from criticalhelp import enter_exit, wait_for
from shimeji import (
    BlockingMutex,
    CriticalSectionMisuse,
    CriticalSectionRawMutex,
    IrqCriticalSection,
    LockCriticalSection,
    LockNotHeld,
    NoCriticalSection,
    RawMutexSection,
    ThreadRawMutex,
    WaitQueue,
)
from support import alloc_delta, heap_locked, micropython_only, needs_threads, raises, start_thread
from synchelp import StateMachine

# -- blocking Mutex -------------------------------------------------------------------------


def test_blocking_mutex_with_lock_returns_and_releases():
    m = BlockingMutex([0])

    def bump(v):
        v[0] += 1
        return v[0]

    assert m.with_lock(bump) == 1
    assert not m.is_locked()
    with raises(ValueError):
        m.with_lock(lambda v: int("x"))
    assert not m.is_locked()
    with m as v:
        v[0] += 10
    assert m.value == [11]


def test_blocking_mutex_is_not_reentrant_and_says_so():
    m = BlockingMutex()
    assert m.try_lock()
    assert not m.try_lock()
    with raises(CriticalSectionMisuse, "not re-entrant"):
        m.lock()
    m.unlock()
    with raises(LockNotHeld):
        m.unlock()
    assert m.try_with_lock(lambda v: "ran") == "ran"


def test_blocking_mutex_on_irq_section_masks_interrupts_while_held():
    mach = StateMachine()
    m = BlockingMutex(raw=CriticalSectionRawMutex(IrqCriticalSection(mach)))
    seen = m.with_lock(lambda v: mach.irq)
    assert seen == 0 and mach.irq == 1


def _try_from_another_thread(m):
    out = []
    start_thread(lambda: out.append(m.try_with_lock(lambda v: 1, 0)))
    wait_for(lambda: len(out) == 1)
    return out[0]


@needs_threads
def test_blocking_mutex_try_lock_fails_while_another_thread_holds_it():
    for raw in (CriticalSectionRawMutex(LockCriticalSection()), ThreadRawMutex()):
        m = BlockingMutex(raw=raw)
        m.lock()
        assert _try_from_another_thread(m) == 0
        m.unlock()
        assert _try_from_another_thread(m) == 1


@needs_threads
def test_blocking_mutex_unlock_from_a_thread_that_does_not_hold_it_is_refused():
    # Leaving the section from another thread released the holder's lock on MicroPython (and
    # left the mutex marked unlocked while held, under CPython's RLock).

    m = BlockingMutex(raw=CriticalSectionRawMutex(LockCriticalSection()))
    m.lock()
    out = []

    def other():
        try:
            m.unlock()
            out.append("unlocked")
        except LockNotHeld as e:
            out.append(str(e))

    start_thread(other)
    wait_for(lambda: out)
    assert out == ["unlock() of a blocking Mutex that another thread holds: only the thread "
                   "(or context) that locked it may unlock it"]
    assert m.is_locked() and _try_from_another_thread(m) == 0  # still held, still excluding
    m.unlock()
    assert not m.is_locked() and _try_from_another_thread(m) == 1


class CountingRaw:
    """A user-supplied raw mutex (maitake's RawMutex hook): counts what it is asked."""

    def __init__(self):
        self.log = []
        self.held = False

    def lock(self):
        self.log.append("lock")
        self.held = True

    def try_lock(self):
        self.log.append("try")
        if self.held:
            return False
        self.held = True
        return True

    def unlock(self):
        self.log.append("unlock")
        self.held = False

    def is_locked(self):
        return self.held


def test_user_raw_mutex_guards_a_blocking_mutex_and_a_primitive():
    raw = CountingRaw()
    m = BlockingMutex(5, raw=raw)
    assert m.with_lock(lambda v: v * 2) == 10
    assert raw.log == ["lock", "unlock"]
    raw.log = []
    q = WaitQueue(RawMutexSection(raw))
    assert q.wake() is False
    assert raw.log == ["lock", "unlock"]


def _with_lock(m, fn):
    return m.with_lock(fn)


def _noop(v):
    return v


@micropython_only
def test_a_new_no_critical_section_allocates_nothing_on_its_first_enter():
    # Its depth counter once appeared on the first enter(): 16 B on the 32-bit qemu firmware,
    # where Trace.record_isr then raised MemoryError under heap_lock.
    cs = NoCriticalSection()
    assert alloc_delta(enter_exit, cs) == 0
    cs = NoCriticalSection()
    heap_locked(enter_exit, cs)
    assert cs.depth == 0


@micropython_only
def test_blocking_mutex_with_lock_allocates_nothing():
    m = BlockingMutex(3)
    _with_lock(m, _noop)
    heap_locked(_with_lock, m, _noop)
    assert alloc_delta(_with_lock, m, _noop) == 0
