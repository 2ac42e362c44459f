# Critical sections: the re-entrant lock, IRQ masking, the context manager, the default and
# the no-op section. The blocking Mutex: test_sync_blocking_mutex.py.
import sys

from criticalhelp import enter_exit, pause, wait_for
from shimeji import (
    CriticalSectionMisuse,
    IrqCriticalSection,
    LockCriticalSection,
    NoCriticalSection,
    NoThreads,
    ThreadRawMutex,
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
    wait_for(lambda: len(got) == 1)
    log.append("main exits inner")
    cs.exit(inner)
    pause()
    log.append("main exits outer")
    cs.exit(outer)
    wait_for(lambda: len(log) == 4)
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
    wait_for(lambda: all(done))
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


@micropython_only
@needs_threads
def test_lock_section_enter_exit_and_with_allocate_nothing():
    cs = LockCriticalSection()
    enter_exit(cs)
    heap_locked(enter_exit, cs)
    assert alloc_delta(enter_exit, cs) == 0


@needs_threads
def test_default_section_first_calls_from_threads_at_once_share_one():
    """Threads released together all call default_critical_section() first: one section."""
    import _thread

    from shimeji.sync import critical

    kept = default_critical_section()  # (made now if no test before this one made it)
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
