"""How an ``Executor`` ends: ``close()`` and ``join()``.

Module functions that ``Executor`` takes in as its methods (``close = close``), and a
``Worker``'s own shutdown (``shut_down_worker``, ``cancel_now``), kept apart
from the spawning and the threads' start so that each module stays small.
"""

from micropython import const

from .. import core, port
from ..errors import BadDuration, Cancelled, ExecutorClosed, SchedulerBusy, Timeout, WorkerDied
from ..sched.foreign import shield
from ..sched.runloop import sleep_idle
from ..task.slot import CANCELLED, FREE, QUEUED
from .threads import settled

_TIMEOUT_LIMIT = const(0x20000000)  # join(timeout_ms): below half the ticks_ms period
_SETTLE_MS = const(500)  # a parked thread's wipe takes ~1-3 ms on an ESP32-C3


def close(self):
    """Close: every worker's ``run`` raises ``ExecutorClosed`` after its current tick and
    cancels its tasks (their ``finally`` blocks run); spawns are refused. Safe from any
    thread."""
    cs = self.critical_section
    state = cs.enter()  # a spawn checks ``closed`` and lands under the same section
    was = self.closed
    self.closed = True
    cs.exit(state)
    if was:
        return
    self.injector.cancel_all()  # spawned from outside, taken by no worker yet
    for w in self.workers:
        w.ring()


def refuse(self):
    """Raise what a closed executor raises: ``WorkerDied`` (chained to the error) once a worker
    thread died of one, else ``ExecutorClosed``. Allocates; not ISR-safe."""
    if self.errors:
        index, e = self.errors[0]
        raise WorkerDied(
            "worker %d's thread died of %r, so the executor closed itself: the other workers "
            "ended and its tasks are cancelled (their finally blocks run in join(), on the "
            "thread that joins; Executor.errors has the error). A RecursionError: give the "
            "threads more stack (_thread.stack_size(bytes) before start() or run(); Xtensa "
            "boards use threads.XTENSA_STACK); a MemoryError: fewer workers or a smaller "
            "capacity; anything else is a bug to report. Make a new Executor to run more "
            "tasks" % (index, e)) from e
    raise ExecutorClosed("this Executor was closed: make a new Executor to run more tasks")


def join(self, timeout_ms=None):
    """Wait until the worker threads started by ``start()`` have returned (a parked thread,
    on ESP32: and wiped its stack, 500 ms at most); detaches the workers' traces (their
    records stay); lowers the asyncio shield. After ``close()``, not from its tasks
    (``SchedulerBusy``: no hang).
    ``timeout_ms``: wait at most that long (an int, ms), then raise ``Timeout`` naming the
    workers still running (a task that never yields holds its worker); nothing is lost,
    and a later ``join()`` waits on. Not ISR-safe (it waits)."""
    if timeout_ms is not None and (type(timeout_ms) is not int
                                   or not 0 <= timeout_ms < _TIMEOUT_LIMIT):
        raise BadDuration("join(timeout_ms=%r): give an int of ms from 0 to %d, or leave it "
                          "out to wait until the workers return"
                          % (timeout_ms, _TIMEOUT_LIMIT - 1))
    ctx = core.current_context()
    if any(w._ctx is ctx for w in self.workers):
        raise SchedulerBusy("join() from a task of this Executor would wait for its own "
                            "worker: close() there, join() on the thread that started it")
    if not self.closed:
        raise SchedulerBusy("join() before close(): the workers run until the Executor is "
                            "closed; call close() first (from any thread or task)")
    if timeout_ms is not None:
        start = port.ticks_ms()
    while self._threads:
        if timeout_ms is not None and port.ticks_diff(port.ticks_ms(), start) >= timeout_ms:
            self._join_timed_out(timeout_ms)
        sleep_idle(1000)
    _settle(self)
    for w in self.workers:  # a worker that never ran, or whose run returned, holds tasks
        if w._thread is None:
            w._shut_down()
    if self._shielded:  # lowered once, and only if start() raised it
        self._shielded = False
        shield.off()


def _settle(self):
    # What of the executor is left outside it once join() returns: a parked thread (ESP32)
    # has given its worker back (_threads) before it wiped its stack, and a collection in
    # between found a Worker there and kept the executor (36 KB on the ESP32-C3): wait, a few
    # ms at most, for each to say it wiped (threads.settled). A trace attached to a worker
    # stays ``trace.ring.last`` (what tools/trace.py pull dumps), and through its scheduler it
    # kept the whole executor (96 KB): detached here, its records stay.
    tickets = self._tickets
    start = port.ticks_ms()
    while tickets and port.ticks_diff(port.ticks_ms(), start) < _SETTLE_MS:
        if settled(tickets[-1]):
            tickets.pop()
        else:
            sleep_idle(1000)
    del tickets[:]  # one that did not settle in time still will, before its next job
    for w in self.workers:
        if w._trace is not None:
            w._trace.detach()


def _join_timed_out(self, timeout_ms):
    running = [w.index for w in self.workers[1:] if w._thread is not None]
    raise Timeout("join(timeout_ms=%d): worker(s) %s still running after %d ms: a task there "
                  "that never yields keeps its worker from seeing close(); make it yield "
                  "(await sleep_ms(0) in its loop) or close() earlier, then join() again "
                  "(nothing was lost)" % (timeout_ms, running or "starting", timeout_ms))


def shut_down_worker(self):
    """``Worker._shut_down``: cancel every task this worker holds (their finally blocks run
    here). ``closed`` is set under the critical section, so no steal hands a task over after
    the scan below and every spawn has either landed before it or been refused. Not
    ISR-safe."""
    state = self._enter()
    self.closed = True
    self._exit(state)
    for w in self.executor.workers:
        for slot in w.slots:
            if slot.sched is self and slot.w[0] != FREE:
                self._cancel_now(slot)
        slot = w._owned_head
        while slot is not None:
            nxt = slot.free_next
            if slot.sched is self and slot.w[0] != FREE:
                self._cancel_now(slot)
            slot = nxt
    state = self._enter()
    self._inbox_head = None
    self._inbox_tail = None
    self._exit(state)
    if self.poller is not None:
        self.poller.close()  # its wake socket; nothing waits on it any more


def cancel_now(self, slot):
    """End the task in ``slot`` cancelled, at once (a worker's shutdown). Not ISR-safe."""
    if slot.w[0] == QUEUED:
        self.policy.remove(slot)
    try:
        slot.coro.close()
    except Exception:  # a finally block that raises must not stop the shutdown
        pass
    self._complete(slot, CANCELLED, Cancelled("the executor was closed"))
