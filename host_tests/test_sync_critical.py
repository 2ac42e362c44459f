# Critical sections (re-entrant lock, IRQ masking, context manager) and the blocking Mutex.
import sys
import time

from shimeji import (
    BlockingMutex,
    CriticalSectionMisuse,
    CriticalSectionRawMutex,
    IrqCriticalSection,
    LockCriticalSection,
    LockNotHeld,
    NoCriticalSection,
    NoThreads,
    RawMutexSection,
    ThreadRawMutex,
    WaitQueue,
    default_critical_section,
)
from shimeji.sync.critical import MAX_DEPTH
from support import (
    HAS_THREADS,
    IS_MICROPYTHON,
    alloc_delta,
    heap_locked,
    micropython_only,
    needs_threads,
    raises,
    reserve_threads,
    start_thread,
    wait_until,
)
from synchelp import StateMachine

# ESP32: the threads these tests start are parked ones made now, while their stacks fit
# (support.reserve_threads): 200 new threads in turn (50 rounds of 4) found no room for a
# stack on the C3 after the heap grew (OSError: can't create thread, session 13); elsewhere
# each is a new thread as before
reserve_threads(4)


def _pause():
    if IS_MICROPYTHON:
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


def _wait_for(cond, limit=20000):
    while limit and not cond():
        _pause()
        limit -= 1
    assert cond(), "timed out waiting for the other thread"


def test_irq_section_nesting_restores_saved_state():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    outer = cs.enter()
    inner = cs.enter()
    cs.exit(inner)
    assert m.irq == 0  # still inside the outer section
    cs.exit(outer)
    assert m.irq == 1
    with cs:
        with cs:
            assert m.irq == 0
        assert m.irq == 0
    assert m.irq == 1
    assert m.log == [("disable", 1), ("disable", 0), ("enable", 0), ("enable", 1)] * 2


def test_with_restores_state_when_the_body_raises():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    with raises(ValueError):
        with cs:
            raise ValueError("boom")
    assert m.irq == 1 and cs._depth == 0


def test_with_nesting_deeper_than_max_depth_is_refused_and_leaves_no_trace():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    states = []
    for _ in range(MAX_DEPTH):
        states.append(cs.__enter__())
    with raises(CriticalSectionMisuse, "enter()/exit(state)"):
        cs.__enter__()
    for _ in range(MAX_DEPTH):
        cs.__exit__(None, None, None)
    assert m.irq == 1 and cs._depth == 0


@needs_threads
def test_lock_section_is_reentrant_in_one_thread():
    cs = LockCriticalSection()
    a = cs.enter()
    b = cs.enter()
    with cs:
        c = cs.try_enter()
        assert c is not None
        cs.exit(c)
    cs.exit(b)
    assert cs.held()
    cs.exit(a)
    assert not cs.held()
    assert cs.try_enter() is not None  # free again


@needs_threads
def test_lock_section_excludes_another_thread_until_fully_left():
    cs = LockCriticalSection()
    log = []
    got = []

    def other():
        got.append(cs.try_enter())  # None: held by the main thread
        s = cs.enter()  # blocks until the main thread has left both levels
        log.append("other in")
        cs.exit(s)
        log.append("other out")

    outer = cs.enter()
    inner = cs.enter()
    start_thread(other)
    _wait_for(lambda: len(got) == 1)
    log.append("main exits inner")
    cs.exit(inner)
    _pause()
    log.append("main exits outer")
    cs.exit(outer)
    _wait_for(lambda: len(log) == 4)
    assert got == [None]
    assert log == ["main exits inner", "main exits outer", "other in", "other out"]


@needs_threads
def test_lock_section_mutual_exclusion_under_two_threads():
    cs = LockCriticalSection()
    box = [0]
    done = [False, False]  # one element per thread: two appends at once can lose one
    n = 2000

    def bump(me):
        for _ in range(n):
            s = cs.enter()
            s2 = cs.enter()  # nested, as a wake inside a primitive's section does
            v = box[0]
            box[0] = v + 1
            cs.exit(s2)
            cs.exit(s)
        done[me] = True

    start_thread(bump, 1)
    bump(0)
    _wait_for(lambda: all(done))
    assert box[0] == 2 * n


def test_default_section_is_shared():
    assert default_critical_section() is default_critical_section()
    cs = default_critical_section()
    if _has_disable_irq() and not (HAS_THREADS and sys.platform == "esp32"):  # boards
        assert isinstance(cs, IrqCriticalSection)
    elif HAS_THREADS:  # unix port, CPython, ESP32 (no blocking call inside disable_irq there)
        assert isinstance(cs, LockCriticalSection)
    else:  # the qemu port: no _thread, no machine.disable_irq
        assert isinstance(cs, NoCriticalSection)
    try:
        import _thread  # noqa: F401
    except ImportError:
        with raises(NoThreads, "default_critical_section()"):
            LockCriticalSection()
        with raises(NoThreads, "ThreadRawMutex"):
            ThreadRawMutex()


def _has_disable_irq():
    if not IS_MICROPYTHON:
        return False
    try:
        import machine
    except ImportError:
        return False
    return hasattr(machine, "disable_irq")


def test_no_critical_section_does_nothing():
    cs = NoCriticalSection()
    with cs:
        assert cs.exit(cs.enter()) is None


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
    _wait_for(lambda: len(out) == 1)
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
    _wait_for(lambda: out)
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


def _enter_exit(cs):
    s = cs.enter()
    s2 = cs.enter()
    cs.exit(s2)
    cs.exit(s)
    with cs:
        pass


@micropython_only
@needs_threads
def test_lock_section_enter_exit_and_with_allocate_nothing():
    cs = LockCriticalSection()
    _enter_exit(cs)
    heap_locked(_enter_exit, cs)
    assert alloc_delta(_enter_exit, cs) == 0


def _with_lock(m, fn):
    return m.with_lock(fn)


def _noop(v):
    return v


@micropython_only
def test_a_new_no_critical_section_allocates_nothing_on_its_first_enter():
    # Its depth counter once appeared on the first enter(): 16 B on the 32-bit qemu firmware,
    # where Trace.record_isr then raised MemoryError under heap_lock.
    cs = NoCriticalSection()
    assert alloc_delta(_enter_exit, cs) == 0
    cs = NoCriticalSection()
    heap_locked(_enter_exit, cs)
    assert cs.depth == 0


@micropython_only
def test_blocking_mutex_with_lock_allocates_nothing():
    m = BlockingMutex(3)
    _with_lock(m, _noop)
    heap_locked(_with_lock, m, _noop)
    assert alloc_delta(_with_lock, m, _noop) == 0


@needs_threads
def test_default_section_first_calls_from_threads_at_once_share_one():
    """Threads released together all call default_critical_section() first: one section."""
    import _thread

    from shimeji.sync import critical

    kept = critical._shared
    n = 4
    try:
        for round_ in range(50):
            critical._shared = None  # this round's calls are the first ones
            go = [False]
            ready = [0]
            got = [None] * n  # one writer per slot
            count = _thread.allocate_lock()

            def call(i, go=go, ready=ready, got=got, count=count):
                with count:
                    ready[0] += 1
                while not go[0]:
                    pass  # spin: released together, not one nap apart
                got[i] = critical.default_critical_section()

            for i in range(n):
                start_thread(call, i)
            try:
                wait_until(lambda ready=ready: ready[0] == n, "round %d's starts" % round_)
            finally:
                go[0] = True  # never leaves a thread spinning
            wait_until(lambda got=got: None not in got, "round %d's threads to call" % round_)
            assert all(cs is got[0] for cs in got), (round_, got)
            assert critical._shared is got[0]
    finally:
        critical._shared = kept
    assert default_critical_section() is kept
