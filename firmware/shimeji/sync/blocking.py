"""Blocking (non-async) locks: a ``Mutex`` for data shared with interrupt handlers.

``blocking.Mutex`` guards a value: ``m.with_lock(fn)`` runs ``fn(value)`` with the lock held
and returns its result. What "held" means is up to its *raw mutex*, an object with
``lock()``, ``try_lock()`` and ``unlock()`` (after maitake's ``RawMutex``):

- ``CriticalSectionRawMutex`` (default): held = inside the critical section. On a board that
  masks interrupts, so an interrupt handler can never see the value half-updated; keep
  ``fn`` short. On the unix port and CPython another thread waits for it.
- ``ThreadRawMutex``: a plain ``_thread`` lock (threads only; never from a hard interrupt).
- your own object with those three methods.

``RawMutexSection(raw)`` turns a raw mutex into a critical section, so the async primitives
(``WaitQueue``, ``Channel``...) can be guarded by your lock too: pass it as
``critical_section``.
"""

import micropython

from .. import port
from ..errors import BadArgument, CriticalSectionMisuse, LockNotHeld, premade, renew
from .critical import CriticalSection, exit_of
from .waitqueue import section


class CriticalSectionRawMutex:
    """A raw mutex held by being inside a critical section (default: the runtime's).

    Its refusals are made before (``errors.premade``) and raised from native code: a lock
    taken twice is refused inside the section the caller holds, an unlock may come from an
    interrupt handler (a locked heap), and neither allocates there."""

    _refusals = None  # (taken twice, unlocked when free, unlocked by another thread)

    def __init__(self, critical_section=None):
        if CriticalSectionRawMutex._refusals is None:
            CriticalSectionRawMutex._refusals = (
                premade(CriticalSectionMisuse, "this blocking Mutex is already held by the "
                        "calling context; it is not re-entrant: do not lock it twice"),
                premade(LockNotHeld, "unlock() of a blocking Mutex that is not locked"),
                premade(LockNotHeld, "unlock() of a blocking Mutex that another thread holds: "
                        "only the thread (or context) that locked it may unlock it"))
        cs = section(critical_section)
        self._enter = cs.enter
        self._exit = exit_of(cs)
        self._try_enter = cs.try_enter
        self._held = getattr(cs, "held", None)  # (a section of the user's may have none)
        self._state = 0
        self._locked = False

    @micropython.native
    def lock(self):
        """Enter the section and mark the lock held. ISR-safe (it never waits on a board)."""
        state = self._enter()
        if self._locked:
            self._exit(state)
            self._refuse(0)
        self._locked = True
        self._state = state

    def try_lock(self):
        """``lock()`` without waiting; True on success. ISR-safe."""
        state = self._try_enter()
        if state is None:
            return False
        if self._locked:
            self._exit(state)
            return False
        self._locked = True
        self._state = state
        return True

    @micropython.native
    def unlock(self, _renew=renew):  # (a default: no global read in native code)
        """Leave the section. ISR-safe."""
        if not self._locked:
            self._refuse(1)
        held = self._held
        if held is not None and not held():  # leaving would release the holder's section
            self._refuse(2)
        state = self._state
        self._locked = False
        self._exit(state)
        refusals = self._refusals
        if refusals[0][1] or refusals[1][1] or refusals[2][1]:  # one was raised: made again,
            if held is None or not held():  # outside every section
                for made in refusals:
                    _renew(made)

    @micropython.native
    def _refuse(self, which):
        made = self._refusals[which]
        made[1] = True
        raise made[0]

    def is_locked(self):
        """ISR-safe."""
        return self._locked


class ThreadRawMutex:
    """A raw mutex made of a ``_thread`` lock. Not for hard interrupt handlers."""

    def __init__(self):
        self._lock = port.thread_module("ThreadRawMutex").allocate_lock()

    def lock(self):
        """Wait for the lock. Not ISR-safe (it may block)."""
        self._lock.acquire()

    def try_lock(self):
        """Take the lock if free; True on success. Not ISR-safe."""
        return bool(self._lock.acquire(0))

    def unlock(self):
        """Not ISR-safe."""
        if not self._lock.locked():
            raise LockNotHeld("unlock() of a blocking Mutex that is not locked")
        self._lock.release()

    def is_locked(self):
        """Not ISR-safe."""
        return self._lock.locked()


class RawMutexSection(CriticalSection):
    """A critical section made of a raw mutex: ``enter()`` locks it, ``exit()`` unlocks it.

    Whether it is ISR-safe is up to the raw mutex."""

    def __init__(self, raw):
        CriticalSection.__init__(self)
        self._lock = raw.lock
        self._unlock = raw.unlock
        self._try_lock = raw.try_lock

    def enter(self):
        """Lock the raw mutex. As ISR-safe as the raw mutex's ``lock()``."""
        self._lock()
        return 0

    def try_enter(self):
        """``try_lock()`` the raw mutex: 0, or None if held. As ISR-safe as the raw mutex."""
        return 0 if self._try_lock() else None

    def exit(self, state):
        """Unlock the raw mutex. As ISR-safe as the raw mutex's ``unlock()``."""
        self._unlock()


_NOT_CALLABLE = "%s(fn): fn must be a function of the value (it runs with the lock held), got %r"


class Mutex:
    """A blocking lock around ``value``. ``raw``: the raw mutex (default
    ``CriticalSectionRawMutex()``)."""

    def __init__(self, value=None, raw=None):
        self.value = value
        self.raw = raw if raw is not None else CriticalSectionRawMutex()

    @micropython.native  # (native, as the raw mutex's lock: a refusal adds no traceback entry)
    def with_lock(self, fn):
        """Run ``fn(value)`` holding the lock; returns what it returns. ISR-safe with the
        default raw mutex; allocation-free if ``fn`` is. ``BadArgument`` (before locking) if
        ``fn`` cannot be called: a call inside would fail inside the section."""
        if not callable(fn):
            raise BadArgument(_NOT_CALLABLE % ("with_lock", fn))
        raw = self.raw
        raw.lock()
        try:
            return fn(self.value)
        finally:
            raw.unlock()

    def try_with_lock(self, fn, default=None):
        """``with_lock(fn)`` if the lock is free now, else ``default``. ISR-safe with the
        default raw mutex."""
        if not callable(fn):
            raise BadArgument(_NOT_CALLABLE % ("try_with_lock", fn))
        raw = self.raw
        if not raw.try_lock():
            return default
        try:
            return fn(self.value)
        finally:
            raw.unlock()

    @micropython.native
    def lock(self):
        """Take the lock; pair with ``unlock()``. Prefer ``with m:`` or ``with_lock``.
        ISR-safe with the default raw mutex."""
        self.raw.lock()

    def try_lock(self):
        """Take the lock if it is free now; True on success. Pair with ``unlock()``.
        ISR-safe with the default raw mutex."""
        return self.raw.try_lock()

    @micropython.native
    def unlock(self):
        """Release the lock. Raises ``LockNotHeld`` if it is not locked (with the default raw
        mutex, also if another thread holds it). ISR-safe with the default raw mutex."""
        self.raw.unlock()

    def is_locked(self):
        """ISR-safe with the default raw mutex."""
        return self.raw.is_locked()

    @micropython.native
    def __enter__(self):
        """``with m as value:``. ISR-safe with the default raw mutex."""
        self.raw.lock()
        return self.value

    def __exit__(self, exc_type, exc, tb):
        """ISR-safe with the default raw mutex."""
        self.raw.unlock()
        return False
