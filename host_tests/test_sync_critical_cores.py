# IrqCriticalSection where disable_irq is a mutex across cores (the RP2040 with core 1 running).
import time

from shimeji import IrqCriticalSection
from support import IS_MICROPYTHON, needs_threads


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


class _CrossCoreMachine:
    """``machine`` as the RP2040's rp2 port has it while core 1 runs: ``disable_irq`` takes a
    mutex shared by both cores, recursive per core (``mp_thread_begin_atomic_section``)."""

    def __init__(self):
        import _thread

        self._lock = _thread.allocate_lock()
        self._ident = _thread.get_ident
        self._owner = None
        self._count = 0

    def disable_irq(self):
        me = self._ident()
        if self._owner != me:
            self._lock.acquire()
            self._owner = me
        self._count += 1
        return 1

    def enable_irq(self, state):
        self._count -= 1
        if not self._count:
            self._owner = None
            self._lock.release()


@needs_threads
def test_irq_section_held_is_the_calling_cores_where_disable_irq_spans_both_cores():
    import _thread

    cs = IrqCriticalSection(_CrossCoreMachine())
    log = []  # core 1's steps; only core 1 appends (two threads appending at once can lose
    # an item without a GIL, and the wait for all of them then never ends)
    asked = [None]  # how many steps core 1 had logged when core 0's held() returned

    def core1():
        s = cs.enter()
        log.append("core 1 in")
        for _ in range(20):  # long enough that core 0 asks while it is inside
            _pause()
        log.append("core 1 leaves")
        cs.exit(s)
        log.append("core 1 out")

    _thread.start_new_thread(core1, ())
    _wait_for(lambda: log)
    held = cs.held()  # waits out core 1's section, which is not this core's
    asked[0] = len(log)
    _wait_for(lambda: len(log) == 3)
    assert held is False
    assert log == ["core 1 in", "core 1 leaves", "core 1 out"]
    assert asked[0] >= 2  # core 0's held() returned after core 1 left its section
    s = cs.enter()
    inner = cs.enter()
    assert cs.held()
    cs.exit(inner)
    assert cs.held()
    cs.exit(s)
    assert not cs.held()
