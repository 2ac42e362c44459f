# Something that plays an interrupt handler in a test: a second thread on the hosted ports
# (CPython, the unix port) and on boards that run one, else a hard machine.Timer interrupt
# every millisecond (the STM32L475 in qemu, the RP2040 emulator's core 0, boards without
# _thread). On a board the ISR-safe entry points are then called from a real interrupt, at any
# instruction of the code it interrupts: what the docs promise they survive.
import time

import support
from shimeji import port

WAIT = 0  # step(): nothing to do yet (the consumer has not caught up)
BUSY = 1  # step(): did one thing; call again
DONE = 2  # step(): finished; not called again

BURST = 8  # steps one timer interrupt takes at most (while they are BUSY)
_TIMER_REASON = "needs a second thread or machine.Timer to play the interrupt handler"


def _machine_timer():
    try:
        import machine
    except ImportError:
        return None
    return getattr(machine, "Timer", None)


def uses_timer():
    """True where the source is a hardware timer (no second thread here)."""
    return not support.HAS_THREADS


def again():
    """What a step that never finishes returns: ``BUSY`` for a thread (it hammers without a
    pause, as a racing waker would), ``WAIT`` for a timer (one step per interrupt, so the
    interrupt handler leaves time to the code it interrupts)."""
    return WAIT if uses_timer() else BUSY


def needs_interrupt_source(fn):
    """The test needs an ``InterruptSource``: skipped, saying so, where the port has neither a
    second thread nor ``machine.Timer`` (the qemu mps2 port)."""
    if support.HAS_THREADS or _machine_timer() is not None:
        return fn
    return support._Skipped(fn, _TIMER_REASON)


# On a MicroPython built with a GIL (test_platform_gil.py) a thread hands the GIL over only in a
# wait that releases it: a step loop that never waits would keep it from the code under test.
_GIL = port.GIL
_hand_over = port.sleep_idle


def _yield_cpu():
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


class InterruptSource:
    """Calls ``step()`` until it returns ``DONE``: from a second thread (which yields the CPU
    1 ms after a ``WAIT``), or from a hard ``machine.Timer`` interrupt each millisecond (up to
    ``BURST`` steps while they are ``BUSY``). There ``step`` runs in an interrupt handler: it
    must not allocate or raise. ``done`` is True once it returned ``DONE``; ``stop()`` ends
    the timer (call it in a ``finally``)."""

    def __init__(self, step):
        self.step = step
        self.done = False
        self.stopped = False
        self.left = True  # the thread has left (or there is none)
        self.steps = 0
        self.timer = None
        self._tick_ref = self._tick  # bound once: the interrupt allocates nothing

    def start(self):
        if not uses_timer():
            import _thread

            self.left = False
            _thread.start_new_thread(self._thread_main, ())
            return self
        timer_class = _machine_timer()
        try:
            self.timer = timer_class(period=1, callback=self._tick_ref, hard=True)
        except TypeError:  # a port whose timer has no hard callbacks: scheduled ones then
            self.timer = timer_class(period=1, callback=self._tick_ref)
        return self

    def _thread_main(self):
        step = self.step
        try:
            while not self.stopped:  # a test that gave up stops its thread too
                r = step()
                self.steps += 1
                if r == DONE:
                    self.done = True
                    break
                if r == WAIT:
                    _yield_cpu()
                elif _GIL:
                    _hand_over(1)  # a release of the GIL: its hammering would starve the rest
        finally:
            self.left = True

    def _tick(self, _timer):
        if self.done or self.stopped:
            return
        n = BURST
        while n:
            r = self.step()
            self.steps += 1
            if r == DONE:
                self.done = True
                return
            if r == WAIT:
                return
            n -= 1

    def stop(self, limit_ms=5000):
        """End the source: the timer stops, or the thread leaves its loop (waited for, at
        most ``limit_ms``), so the next test starts without it."""
        self.stopped = True
        if self.timer is not None:
            self.timer.deinit()
            self.timer = None
        n = limit_ms
        while not self.left and n:
            _yield_cpu()
            n -= 1

    def wait_started(self, limit_ms=5000):
        """Wait (1 ms at a time, at most ``limit_ms``) until ``step`` has run once: a thread
        started under load may get no CPU for tens of ms. Returns True if it ran."""
        n = limit_ms
        while not self.steps and n:
            _yield_cpu()
            n -= 1
        return self.steps > 0

    def wait_done(self, limit_ms=30000):
        """Wait (1 ms at a time, at most ``limit_ms``) until ``done``; returns it."""
        n = limit_ms
        while not self.done and n:
            _yield_cpu()
            n -= 1
        return self.done
