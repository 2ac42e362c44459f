"""Critical sections: short stretches of code that an interrupt handler cannot split.

A critical section object has ``enter()`` returning a state and ``exit(state)`` restoring it;
no allocation, and nested sections restore the state they saved. The scheduler binds
``enter``/``exit`` once at construction and uses them around the few statements that an
interrupt-side wake also touches (see ``scheduler.py``).

- ``IrqCriticalSection``: ``machine.disable_irq()`` / ``machine.enable_irq(state)`` on boards.
- ``LockCriticalSection``: a ``_thread`` lock, for the unix port and CPython, where a second
  thread plays the interrupt handler. It is not re-entrant from one thread: keep sections flat.
- ``NoCriticalSection``: single-context programs that never wake from another context.
"""

from . import port


class NoCriticalSection:
    """Does nothing: for code that has no interrupt handler or second thread."""

    def enter(self):
        return 0

    def exit(self, state):
        pass


class IrqCriticalSection:
    """Masks interrupts on the current core (``machine.disable_irq``)."""

    def __init__(self, machine_module=None):
        if machine_module is None:
            import machine as machine_module
        self.enter = machine_module.disable_irq
        self.exit = machine_module.enable_irq


class LockCriticalSection:
    """Mutual exclusion with a ``_thread`` lock against another thread or core."""

    def __init__(self):
        import _thread

        lock = _thread.allocate_lock()
        self._acquire = lock.acquire
        self._release = lock.release

    def enter(self):
        self._acquire()
        return 0

    def exit(self, state):
        self._release()


def default_critical_section():
    """The right critical section for the runtime we are on."""
    if port.IS_MICROPYTHON:
        try:
            import machine

            if hasattr(machine, "disable_irq"):
                return IrqCriticalSection(machine)
        except ImportError:
            pass
    try:
        return LockCriticalSection()
    except ImportError:
        return NoCriticalSection()
