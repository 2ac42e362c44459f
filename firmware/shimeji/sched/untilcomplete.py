"""``run_until_complete``: spawn one coroutine and drive the scheduler until it finishes.

``TaskLifecycle`` (lifecycle.py) takes ``run_until_complete`` in as its method. For scripts and
the REPL; firmware composes its own loop or uses ``RunLoop`` (runloop.py). ``_idle`` is its
default wait, and ``close()``'s 1 ms step while another thread holds the critical section.
"""

from ..port import sleep_idle
from ..task.slot import FREE
from . import loopthread as _loopthread
from .foreign import shield as _shield


def run_until_complete(self, coro, idle=None):
    """Spawn ``coro``, tick until it finishes and return its result (or raise its error).

    Each round turns the scheduler's timer (if it has one), then ticks. ``idle()`` runs
    whenever no task is runnable; the default sleeps until the timer's next deadline, but
    at most 1 ms so that wakes from other threads are seen soon. For scripts and the REPL;
    firmware composes its own loop or uses ``shimeji.runloop``. Raises ``SchedulerBusy``
    (and spawns nothing) if called from one of this scheduler's own tasks. Not ISR-safe."""
    if self._polling:
        raise self._busy()
    # first (SchedulerBusy while another thread's loop polls, nothing spawned); while it runs,
    # other threads' sleeps... raise NoCurrentTask
    mine = _loopthread.enter(self.timer, "run_until_complete()")
    try:
        handle = self.spawn(coro)
    except BaseException:
        _loopthread.leave(mine, self.timer)
        raise
    slot = handle._ref
    # The asyncio shield (foreign.py) up once for the whole run, as RunLoop.run does,
    # instead of up and down around every tick.
    shielding = self._shielding
    if shielding:
        _shield.on()
        self._shielding = False
    try:
        # Given back only once its outcome is read: the slot then reuses the handle for
        # its next task, which another task may spawn in the tick that completes this one.
        while not handle.is_complete():
            timer = self.timer
            if timer is not None:
                timer.turn()
            poller = getattr(self, "poller", None)  # tasks waiting for I/O (shimeji.io)
            if poller is not None and poller.waiters:
                poller.poll(0)
            if not self.tick().has_remaining and not handle.is_complete():
                if idle is None:
                    _idle(self.timer, getattr(self, "poller", None))
                else:
                    idle()
    finally:
        _loopthread.leave(mine, self.timer)
        if shielding:
            self._shielding = True
            _shield.off()
    try:
        return handle.result()
    finally:
        if slot.handle is handle and slot.w[0] == FREE:  # nobody else holds it
            slot.handle_out = False


def _idle(timer, poller=None):
    us = 1000
    if timer is not None:
        nxt = timer.next_in_us()
        if 0 <= nxt < us:
            us = nxt
    if us <= 0:
        return
    if poller is not None and poller.waiters:
        poller.wait_us(us, None)
    else:
        sleep_idle(us)  # (with a GIL, a wait that releases it: see port.py)
