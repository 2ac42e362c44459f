"""``Worker``: a ``StaticScheduler`` that polls on its own thread (or core) beside others.

Design note: who may touch what. A worker's run queue (its policy) and its timer wheel are
touched only on the worker's own thread. Everything another thread may touch is guarded by the
runtime's critical section, one re-entrant lock shared by all workers: the wake inbox, the
pool's free list (spawns may come from any thread), a task's joiners and completion, and a
steal request. Stealing is by request: a worker that ran dry asks one busy worker (``_asked``),
which hands over half of its runnable tasks at its next tick boundary, into the thief's inbox.
A victim is never waited for: a worker already asked by another thief is skipped. Only QUEUED
tasks move, and not those with an armed timer entry (the wheel belongs to the victim's thread);
a moved task's ``slot.sched`` changes under the lock, and ``wake()`` forwards a wake that
arrives at the old worker. So a task is in one run queue or inbox at a time, and only the
worker whose queue it was taken from polls it: never two at once.
"""

from .. import core
from ..errors import Cancelled
from ..sched.runloop import sleep_idle
from ..sched.scheduler import StaticScheduler
from ..task.slot import CANCELLED, FREE, QUEUED
from ..time.timer import Timer

_STEAL_MAX = 256
_IDLE_SLICE_US = 1000  # longest sleep while a timer is pending (locks here have no timeout)


class Worker(StaticScheduler):
    """One worker of an ``Executor``: make them through ``Executor(workers=N)``."""

    parallel = True

    def __init__(self, executor, index, capacity, policy, tick_us, critical_section=None):
        StaticScheduler.__init__(self, capacity, policy=policy, critical_section=critical_section,
                                 timer=Timer(tick_us=tick_us))
        import _thread

        self.executor = executor
        self.index = index
        self._ctx = core.Context()
        self._shielding = False  # the executor raises the asyncio shield once for all
        self._bell = _thread.allocate_lock()
        self._bell.acquire()  # held: a sleeping worker blocks on it until rung
        self.sleeping = False
        self._request = None  # the worker that asked this one for work
        self._asked = None  # the worker this one asked
        self._thread = None  # ident of the thread running this worker
        self._pinned = None  # the main task of run(): never handed to another worker
        self.polled = 0
        self.stolen = 0  # tasks received from other workers
        self.stolen_from = [0] * executor.size
        self.given = 0  # tasks handed to other workers
        self.injected = 0  # tasks spawned here from outside any worker
        self.slept = 0
        self.woken_cross = 0  # rings from other threads that ended a sleep
        self.steal_requests = 0
        self.failed_steals = 0

    # -- what other threads may call (under the critical section) ----------------------------

    def wake(self, slot):
        """Make the task in ``slot`` runnable; rings the worker if it sleeps. Safe from any
        thread and from interrupt handlers."""
        StaticScheduler.wake(self, slot)
        if self.sleeping:
            self.ring()

    def ring(self):
        """End this worker's sleep, if it sleeps. Safe from any thread."""
        state = self._enter()
        if self.sleeping:
            self.sleeping = False
            self.woken_cross += 1
            self._bell.release()
        self._exit(state)

    def spawn(self, coro, name=None):
        """Run ``coro`` on this worker; returns its ``JoinHandle``. Safe from any thread."""
        state = self._enter()
        try:
            if self.executor.closed:
                self.executor._refuse()
            handle = StaticScheduler.spawn(self, coro, name)
        finally:
            self._exit(state)
        if self.sleeping:
            self.ring()
        return handle

    def spawn_allocated(self, slot, coro, name=None, detached=False):
        """``StaticScheduler.spawn_allocated`` on this worker: under the critical section
        (ids and the owned list), refused once closed, and rings the worker if it sleeps."""
        state = self._enter()
        try:
            if self.executor.closed:
                self.executor._refuse()
            handle = StaticScheduler.spawn_allocated(self, slot, coro, name, detached)
        finally:
            self._exit(state)
        if self.sleeping:
            self.ring()
        return handle

    def cancel_slot(self, slot):
        """Cancel the task in ``slot``; from another thread the task leaves its wait on its
        own worker, at its next poll."""
        state = self._enter()
        other = slot.sched
        if other is not self:  # moved by a steal since the caller read slot.sched: follow it
            self._exit(state)
            if other is None or slot.state == FREE:
                return False
            return other.cancel_slot(slot)
        if core.current_context() is self._ctx:
            try:
                return StaticScheduler.cancel_slot(self, slot)
            finally:
                self._exit(state)
        ok = slot.state != FREE and not slot.cancel_requested
        if ok:
            slot.cancel_requested = True
            slot.throw_exc = Cancelled("the task was cancelled")
        self._exit(state)
        if ok:
            self.wake(slot)
        return ok

    def _unwait(self, slot):
        # A join list is shared with the worker that completes the joined task, which pops
        # it under the critical section: unlink under it too.
        state = self._enter()
        try:
            StaticScheduler._unwait(self, slot)
        finally:
            self._exit(state)

    def _complete(self, slot, status, value):
        state = self._enter()  # joiners may be linking from other threads
        try:
            StaticScheduler._complete(self, slot, status, value)
        finally:
            self._exit(state)

    # -- the worker's loop ------------------------------------------------------------------------

    def run(self, main=None):
        """The worker's loop, on the calling thread: tick, steal when dry, sleep when nothing
        is left. With ``main`` (a coroutine), returns its result when it finishes. Raises
        ``ExecutorClosed`` once the executor is closed (after this tick)."""
        import _thread

        ex = self.executor
        self._thread = _thread.get_ident()
        core.register_thread(self._ctx)
        handle = None
        if main is not None:
            handle = self.spawn(main)
            self._pinned = handle._live_slot()  # main stays here, so this loop sees it finish
        try:
            while True:
                if ex.closed:
                    self._shut_down()
                    ex._refuse()
                self.timer.turn()
                t = self.tick()
                self.polled += t.polled
                if handle is not None and handle._live_slot() is None:
                    self._pinned = None
                    return handle.result()
                if self._request is not None:
                    self._serve()
                if t.has_remaining or self._inbox_head is not None or self.policy.has_ready():
                    continue
                if self._steal():
                    continue
                self._sleep()
        finally:
            self._thread = None  # not running: join() shuts down what it left
            core.unregister_thread()

    def _serve(self):
        """Hand half of the runnable tasks to the worker that asked (at most 256)."""
        state = self._enter()
        thief = self._request
        self._request = None
        self._exit(state)
        pick = self._pick
        head = None
        n = 0
        while True:  # every runnable task, in the policy's order, chained through inbox_next
            slot = pick()
            if slot is None:
                break
            slot.inbox_next = head
            head = slot
            n += 1
        keep = n - min(n // 2, _STEAL_MAX)
        slot = head  # reversed: the last picked first, so the oldest stay here
        order = None
        while slot is not None:  # back into policy order
            nxt = slot.inbox_next
            slot.inbox_next = order
            order = slot
            slot = nxt
        slot = order
        given = 0
        i = 0
        while slot is not None:
            nxt = slot.inbox_next
            slot.inbox_next = None
            if (i < keep or slot is self._pinned or slot.timer.pos >= 0
                    or slot.deadline.pos >= 0 or slot.deadline_owner is not None):
                # inside a timeout(): its guard re-arms an outer deadline on this wheel
                self._put_back(slot, False)
            else:
                state = self._enter()
                moved = not thief.closed  # a thief that shut down would orphan the task
                if moved:
                    slot.sched = thief  # wakes that still reach this worker are forwarded
                    thief._inbox_push(slot)
                self._exit(state)
                if moved:
                    thief.stolen_from[self.index] += 1
                    given += 1
                else:
                    self._put_back(slot, False)
            i += 1
            slot = nxt
        self.given += given
        thief.stolen += given
        thief.ring()

    def _steal(self):
        """Ask one busy worker for work, starting at a random one, up to four rounds; True
        if a request was made (its answer arrives in the inbox and rings this worker)."""
        ex = self.executor
        workers = ex.workers
        size = len(workers)
        if size < 2:
            return False
        for _ in range(4):
            start = ex._random(size)
            for k in range(size):
                victim = workers[(start + k) % size]
                if victim is self or victim.sleeping or victim._request is not None:
                    continue
                state = self._enter()
                ok = victim._request is None and not victim.sleeping
                if ok:
                    victim._request = self
                    self.steal_requests += 1
                self._exit(state)
                if ok:
                    self._sleep()  # until the victim answers (or a spawn, wake or close)
                    return True
            self.failed_steals += 1
        return False

    def _sleep(self):
        """Wait until rung (a spawn, a wake, a steal's answer, close()) or, with a timer
        entry pending, for at most the time to it."""
        self.timer.turn()
        wait_us = self.timer.next_in_us()
        state = self._enter()
        if self._inbox_head is not None or self._request is not None or self.executor.closed:
            self._exit(state)
            return
        self.slept += 1
        if wait_us >= 0:  # a deadline: short sleeps (a _thread lock has no timeout here)
            self._exit(state)
            sleep_idle(min(wait_us, _IDLE_SLICE_US))
            return
        self.sleeping = True
        self._exit(state)
        self._bell.acquire()  # released by ring()

    def _shut_down(self):
        """Cancel every task this worker holds (their finally blocks run here). ``closed`` is
        set under the critical section, so no steal hands a task over after the scan below
        and every spawn has either landed before it or been refused."""
        state = self._enter()
        self.closed = True
        self._exit(state)
        for w in self.executor.workers:
            for slot in w.slots:
                if slot.sched is self and slot.state != FREE:
                    self._cancel_now(slot)
            slot = w._owned_head
            while slot is not None:
                nxt = slot.free_next
                if slot.sched is self and slot.state != FREE:
                    self._cancel_now(slot)
                slot = nxt
        state = self._enter()
        self._inbox_head = None
        self._inbox_tail = None
        self._exit(state)

    def _cancel_now(self, slot):
        if slot.state == QUEUED:
            self.policy.remove(slot)
        try:
            slot.coro.close()
        except Exception:  # a finally block that raises must not stop the shutdown
            pass
        self._complete(slot, CANCELLED, Cancelled("the executor was closed"))

    def stats(self):
        """This worker's figures, as a dict (allocates: for the REPL and benchmarks)."""
        return {
            "worker": self.index,
            "polled": self.polled,
            "stolen": self.stolen,
            "stolen_from": list(self.stolen_from),
            "given": self.given,
            "injected": self.injected,
            "slept": self.slept,
            "woken_cross": self.woken_cross,
            "steal_requests": self.steal_requests,
            "failed_steals": self.failed_steals,
        }
