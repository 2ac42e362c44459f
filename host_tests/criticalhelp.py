"""Helpers of the critical-section exception tests (test_sync_critical_exceptions*.py,
test_sync_section_rules.py): ``Boom`` (the failure they inject), ``section_free`` (the
section is not held and another thread enters it), ``FailingWake`` (a ``core.wake`` that
raises for chosen slots), a primitive's waiter and a handle's live slot; and for the section
tests (test_sync_critical.py, test_sync_blocking_mutex.py) ``wait_for`` and ``enter_exit``."""
import time

from shimeji import core
from support import HAS_THREADS, IS_MICROPYTHON


class Boom(Exception):
    pass


def pause():
    if IS_MICROPYTHON:
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


def section_free(cs):
    """The section is not held here, and another thread enters it at once (a bounded wait:
    ``try_enter`` never blocks)."""
    assert not cs.held()
    if not HAS_THREADS:
        return
    import _thread

    got = []

    def other():
        for _ in range(2000):
            st = cs.try_enter()
            if st is not None:
                cs.exit(st)
                got.append(True)
                return
            pause()
        got.append(False)

    _thread.start_new_thread(other, ())
    for _ in range(5000):
        if got:
            break
        pause()
    assert got == [True], "another thread could not enter the section"


class FailingWake:
    """Replaces ``core.wake`` (what every primitive calls inside its section): raises for the
    slots in ``fail`` (each once), wakes the others."""

    def __init__(self, *fail):
        self.fail = list(fail)
        self.real = core.wake

    def __enter__(self):
        core.wake = self
        return self

    def __exit__(self, *exc):
        core.wake = self.real
        return False

    def __call__(self, slot):
        if slot in self.fail:
            self.fail.remove(slot)
            raise Boom("wake failed")
        self.real(slot)


async def prim_waiter(prim, log, name):
    await prim.wait()
    log.append(name)


def live_slot(handle):
    return handle._live_slot()


def wait_for(cond, limit=20000):
    """Nap 1 ms at a time until ``cond()``, at most ``limit`` times; then assert it."""
    while limit and not cond():
        pause()
        limit -= 1
    assert cond(), "timed out waiting for the other thread"


def enter_exit(cs):
    """Enter ``cs`` twice (nested) and leave, then once as a context manager."""
    s = cs.enter()
    s2 = cs.enter()
    cs.exit(s2)
    cs.exit(s)
    with cs:
        pass
