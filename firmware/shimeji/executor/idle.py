"""``Idling``: how an executor's worker sleeps when it has nothing to run (a part of
``Worker``).

Design note: a worker sleeps on its own bell, a ``_thread`` lock it holds, which ``ring()``
releases; the sleeping flag is set under the critical section the injector and every ring
use, so no ring falls between the last check and the sleep. With a timer entry pending it
sleeps in slices up to the next deadline instead (a lock here has no timeout); with tasks
waiting for I/O, in its poller. The thread that runs ``micropython.schedule`` callbacks (on
MicroPython without a GIL, the main thread: worker 0's under ``Executor.run``) never blocks
on the bell: a blocked thread runs no callback, so one that would wake a task would wait for
the next ring. It sleeps in 1 ms slices instead, during which MicroPython runs callbacks.
"""

from micropython import const

from .. import port
from ..sched.runloop import sleep_idle

_IDLE_SLICE_US = 1000  # longest sleep while a timer is pending (locks here have no timeout)
_FIRST_SLICE_US = 25  # the callback thread's first slice; each next one doubles, up to 1 ms
# A busy worker's GIL hand-over (Worker.gil_turn_ms): its wait must block. A 10 us select
# returned before the thread slept (in a VM; 20 us did sleep), so no other thread ran
# (test_platform_gil's one-core test, flaky under load). ESP32's and STM32's idle ignore it.
_HAND_OVER_US = const(100)


def _callback_thread():
    """The thread that imported the executor: the main thread, normally, which is where
    MicroPython (without a GIL) runs ``micropython.schedule`` callbacks. None on CPython (its
    stand-in runs them between polls) and without ``_thread``."""
    if not port.IS_MICROPYTHON:
        return None
    try:
        import _thread
    except ImportError:
        return None
    return _thread.get_ident()


CALLBACK_THREAD = _callback_thread()


class Idling:
    """The worker's sleep, mixed into ``Worker``."""

    def _gil_wait(self):
        """A busy worker's wait without the GIL, so that the other threads run."""
        sleep_idle(_HAND_OVER_US)

    def _sleep(self, for_answer=False):
        """Wait until rung (a spawn, a wake, a steal's answer, a busy worker sharing, close())
        or, with a timer entry pending, for at most the time to it. The sleeping flag is set
        under the section the injector and every ring use, so no ring falls before it;
        ``for_answer``: a steal request is out, and its answer ends the wait too."""
        self.timer.turn()
        wait_us = self.timer.next_in_us()
        ex = self.executor
        state = self._enter()
        if (self._inbox_head is not None or self._request is not None or ex.closed
                or ex.injector.head is not None or (for_answer and self._asked is None)):
            self._exit(state)
            return
        self.slept += 1
        poller = self.poller
        if poller is not None and poller.waiters:  # idle in the poller: readiness ends it too
            us = wait_us
            if us < 0:
                us = poller.max_idle_us if poller.max_idle_us is not None else _IDLE_SLICE_US
            if poller.max_idle_us is None and us > poller.slice_us:
                us = poller.slice_us  # no wake socket: a ring cannot end the poll, so slices
            self.sleeping = True
            self._idle_in_poller = True
            ex.sleepers += 1
            self._exit(state)
            poller.wait_us(us)
            state = self._enter()
            self._idle_in_poller = False
            if self.sleeping:  # not rung: readiness or the deadline ended it
                self.sleeping = False
                ex.sleepers -= 1
            self._exit(state)
            return
        if wait_us >= 0:  # a deadline: short sleeps (a _thread lock has no timeout here)
            self._exit(state)
            sleep_idle(min(wait_us, _IDLE_SLICE_US))
            return
        self.sleeping = True
        ex.sleepers += 1
        self._exit(state)
        if self._callbacks:
            self._sleep_in_slices()
        else:
            self._bell.acquire()  # released by ring()

    def _sleep_in_slices(self):
        """Sleep on a thread that runs ``micropython.schedule`` callbacks: a thread blocked on
        a lock runs none, so a callback that would wake a task here would wait for the next
        ring. MicroPython runs them while it sleeps: 1 ms slices, until rung. A callback that
        ran inside ``_sleep``'s section, before the sleeping flag was set, woke its task
        without a ring: the inbox says so. The slices start at 25 µs and double up to 1 ms:
        a ring soon after the sleep began (a steal's answer comes at the victim's next tick
        boundary, a busy worker shares at its) is seen within ~2x the wait, not after a whole
        millisecond, and a long sleep still wakes ~once a millisecond."""
        bell = self._bell
        us = _FIRST_SLICE_US
        while not bell.acquire(0):
            if self._inbox_head is not None:
                state = self._enter()
                rung = not self.sleeping  # ring() released the bell inside the section
                if not rung:
                    self.sleeping = False
                    self.executor.sleepers -= 1
                self._exit(state)
                if rung:
                    bell.acquire()  # (released already: returns at once)
                return
            sleep_idle(us)
            if us < _IDLE_SLICE_US:
                us = us + us if us + us < _IDLE_SLICE_US else _IDLE_SLICE_US
