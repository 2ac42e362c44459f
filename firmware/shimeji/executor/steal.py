"""``Stealing``: how an executor's workers share work (a part of ``Worker``).

Design note: stealing by request. MicroPython has no atomic operations to build a lock-free
queue from, and a run queue is a policy's linked structure, so a thief never touches a
victim's queue. It sets the victim's ``_request`` under the critical section and waits; the
victim, at the end of its current tick, picks every runnable task, keeps the older half and
moves the newer half (at most 256) into the thief's inbox, then answers (how many moved) and
rings it. An empty answer sends the thief on to the next victim of its round. A victim asked
by another thief already, asleep, not running its loop, or waiting for an answer itself (a
thief: its own queue ran dry) is skipped, never waited for. Two idle workers that asked each
other kept each other awake: each saw the other's request on its way to sleep, answered it
and asked again (the classic ESP32, where a GIL interleaves them: worker 0 never slept in 5 s,
42 requests each way). A worker whose loop ends answers a request still pending, so no thief
waits for it forever.
Only QUEUED tasks move, and not those with an armed timer entry or inside a ``timeout()``
whose deadline fired (the wheel belongs to the victim's thread), nor the ``main`` of ``run``.
"""

from micropython import const

from .. import core

_STEAL = const(20)  # trace.kinds.STEAL
STEAL_MAX = const(256)  # most tasks one hand-over or one take from the injector moves


class Stealing:
    """The steal protocol and the injector's draining, mixed into ``Worker``."""

    def _random(self, n):
        """A number below ``n``: where this worker's steal round starts (xorshift on its own
        state, ``_rng``, which only its thread writes: no section, nothing lost between
        workers). Each shift is masked first, so no intermediate passes 2**30: small ints on
        32-bit boards, allocation-free. Not ISR-safe (the worker's own thread only)."""
        x = self._rng
        x ^= (x & 0x1FFFF) << 13  # == (x << 13) & 0x3FFFFFFF, without the 43-bit step
        x ^= x >> 17
        x ^= (x & 0x1FFFFFF) << 5  # == (x << 5) & 0x3FFFFFFF
        self._rng = x or 1
        return x % n

    def _take_injected(self, limit):
        """Move up to ``limit`` tasks from the executor's injector into the inbox."""
        if self.executor.injector.head is None:
            return 0
        n = self.executor.injector.take(self, limit)
        self.injected += n
        return n

    def _stop_serving(self):
        """The loop ends: no thief may ask this worker from now on, and one that asked
        already is answered, so no worker waits for a loop that no longer runs."""
        state = self._enter()
        self._thread = None  # not running: join() shuts down what it left
        pending = self._request is not None
        self._exit(state)
        if pending:
            self._serve()

    def _serve(self):
        """Hand half of the runnable tasks to the worker that asked (at most 256)."""
        state = self._enter()
        thief = self._request
        self._request = None
        self._exit(state)
        if thief is not None:
            self._hand_over(thief)

    def _share(self):
        """More runnable tasks here than this worker can run while another sleeps: hand half
        of them (at most 256) straight into a sleeper's inbox and ring it. Ringing it to
        come and ask cost a round trip more: its wake-up, its request, and this worker's
        next tick before the answer (a tick of every task here: ~0.1 ms at the bench's
        start, with 64 tasks)."""
        ex = self.executor
        thief = None
        state = self._enter()
        for w in ex.workers:
            if w.sleeping and w is not self and not w.closed:
                thief = w
                break
        self._exit(state)
        if thief is not None:
            self._hand_over(thief)

    def _hand_over(self, thief):
        """Move the newer half of the runnable tasks (at most 256) into ``thief``'s inbox,
        answer its request if it asked this worker, ring it. On this worker's thread."""
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
        keep = n - min(n // 2, STEAL_MAX)
        if keep < n:  # tasks resume their yield_now on the thief's thread: retire the ring
            core.renew_ring(self._ctx)  # (allocates: a new ring per hand-over)
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
            if (i < keep or slot is self._pinned or slot.w[4] < 0xFFFF
                    or slot.deadline is not None and slot.deadline.pos >= 0
                    or slot.deadline_owner is not None):
                # inside a timeout(): its guard re-arms an outer deadline on this wheel
                self._put_back(slot, False)
            else:
                state = self._enter()
                try:  # (the trace's record may raise: the task has moved by then)
                    moved = not thief.closed  # a thief that shut down would orphan the task
                    if moved:
                        slot.sched = thief  # wakes that still reach this worker are forwarded
                        thief._inbox_push(slot)
                        if thief._trace is not None:  # STEAL in the thief's trace: from whom
                            slot.w[3] = slot.id  # (W_ID: the thief's traced tick reads it)
                            thief._trace.record_isr(_STEAL, slot.id, self.index)
                finally:
                    self._exit(state)
                if moved:
                    thief.stolen_from[self.index] += 1
                    given += 1
                else:
                    self._put_back(slot, False)
            i += 1
            slot = nxt
        self.given += given
        self._unshared = given == 0  # ring no sleeper for this queue until new work comes
        state = self._enter()
        thief.stolen += given  # two victims may hand over to one sleeper at once (_share)
        if thief._asked is self:
            thief._asked = None  # answered: the thief stops waiting
            thief._answer = given
        self._exit(state)
        thief.ring()

    def _steal(self):
        """Ask busy workers for work, starting at a random one, up to four rounds; True if
        work arrived (or the executor closed), False if every round came back empty."""
        ex = self.executor
        workers = ex.workers
        size = len(workers)
        if size < 2:
            return False
        if self._asked is not None:  # an earlier request is still out: wait for its answer
            self._sleep(True)
            return True
        for _ in range(4):
            start = self._random(size)
            for k in range(size):
                victim = workers[(start + k) % size]
                if (victim is self or victim.sleeping or victim._request is not None
                        or victim._thread is None or victim._asked is not None):
                    continue  # idle, being stolen from, not running, or a thief: skipped
                state = self._enter()
                ok = (victim._request is None and not victim.sleeping
                      and victim._thread is not None and victim._asked is None)
                if ok:
                    victim._request = self
                    self._asked = victim
                    self._answer = -1
                self._exit(state)
                if not ok:
                    continue
                self.steal_requests += 1
                while self._asked is not None:  # the victim answers at its next tick's end
                    # other work came first (the answer follows into the inbox): every case
                    # in which _sleep returns without waiting, or this loop would spin (with
                    # a GIL on one core, never letting the victim run to answer)
                    if (self._inbox_head is not None or ex.closed or self._request is not None
                            or ex.injector.head is not None):
                        return True
                    self._sleep(True)
                if self._answer > 0 or self._inbox_head is not None:
                    return True
            self.failed_steals += 1
        return False
