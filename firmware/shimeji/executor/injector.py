"""``Injector``: the executor's global queue of tasks spawned from outside any worker.

Design note. A spawn from the REPL, another thread or a callback that runs on no worker's
thread takes a free slot of some worker's pool (so its ``JoinHandle`` exists at once and the
slot goes home to that pool when the task ends), builds the task there and links it here,
with ``slot.sched`` set to this injector. A worker whose own queue is empty takes from here
first (``take``): under the critical section it moves up to 256 slots, oldest first, into its
own wake inbox and sets their ``slot.sched`` to itself. Until then the task is in exactly one
place, this queue, and nothing polls it. What other threads may do to such a task works here
too: a wake is a no-op (the task is runnable already) or follows the task to the worker that
took it; a cancel marks the task, and the worker that takes it throws ``Cancelled`` into it at
its first poll; a join links under the critical section, as for any task of the executor.
``close()`` cancels what is still queued here (``cancel_all``).

Every method takes the critical section; pushing and taking allocate nothing.
"""

from ..errors import Cancelled
from ..sched.waking import refuse_wake
from ..sync.critical import exit_of
from ..task.slot import CANCELLED, FREE, TaskSlot

_TAKE_MAX = 256


class Injector:
    """The executor's queue of tasks spawned from outside its workers (made by
    ``Executor``). Seen by a task's handle as its scheduler while the task waits here."""

    level = 0  # a thread-level scheduler, for JoinHandle's checks
    parallel = True  # joins link under the critical section (task/slot.py)

    def __init__(self, critical_section):
        self.critical_section = critical_section
        self._enter = critical_section.enter
        self._exit = exit_of(critical_section)
        self.head = None  # slots linked through inbox_next, oldest first
        self.tail = None
        self.count = 0
        self.pushed = 0  # tasks ever queued here (wraps like the schedulers' counters)
        self.timer = None  # a task here has not run: it has armed nothing

    def push(self, slot):
        """Queue ``slot`` (its task already built) and make this its scheduler. ISR-safe
        (allocation-free, under the critical section)."""
        state = self._enter()
        slot.sched = self
        slot.inbox_next = None
        tail = self.tail
        if tail is None:
            self.head = slot
        else:
            tail.inbox_next = slot
        self.tail = slot
        self.count += 1
        n = self.pushed
        self.pushed = n + 1 if n < 0x3FFFFFFF else 0
        self._exit(state)

    def take(self, worker, limit=_TAKE_MAX):
        """Move up to ``limit`` tasks, oldest first, into ``worker``'s inbox; returns how many.
        A worker that has shut down takes nothing. Allocation-free."""
        state = self._enter()
        n = 0
        if not worker.closed:
            slot = self.head
            while slot is not None and n < limit:
                nxt = slot.inbox_next
                slot.sched = worker  # from now on wakes and cancels go to the worker
                worker._inbox_push(slot)  # (re-entrant section: links under the same hold)
                n += 1
                slot = nxt
            self.head = slot
            if slot is None:
                self.tail = None
            self.count -= n
        self._exit(state)
        return n

    def wake(self, slot):
        """A task waiting here is runnable already: nothing to do, unless a worker took it
        since the caller read ``slot.sched`` (then the wake follows it). ISR-safe. What is
        not a task slot: ``BadArgument``, before the section (it raised inside it, and left
        the executor's section held)."""
        if not isinstance(slot, TaskSlot):
            refuse_wake(slot)
        state = self._enter()
        other = slot.sched
        self._exit(state)
        if other is not self and other is not None:
            other.wake(slot)

    def cancel_slot(self, slot):
        """Cancel a task: ``Cancelled`` is thrown into it at its first poll, on the worker
        that takes it. Follows a task a worker took meanwhile. The ``Cancelled`` is made
        before the section."""
        exc = Cancelled("the task was cancelled")  # (a MemoryError here: nothing changed)
        state = self._enter()
        other = slot.sched
        if other is not self:
            self._exit(state)
            if other is None or slot.w[0] == FREE:
                return False
            return other.cancel_slot(slot)
        try:  # (a section's exit is certain)
            ok = not slot.cancel_requested
            if ok:
                slot.throw_exc = exc
                slot.w[1] = 1  # (its flag: task/words.py)
                slot.cancel_requested = True
                slot.dirty = True  # (see TaskSlot.dirty)
        finally:
            self._exit(state)
        return ok

    def cancel_all(self):
        """Cancel every task still queued here (the executor closed); its handle reports
        ``Cancelled``, its slot goes back to its pool. Any thread; returns how many."""
        n = 0
        while True:
            state = self._enter()
            slot = self.head
            if slot is not None:
                self.head = slot.inbox_next
                if self.head is None:
                    self.tail = None
                self.count -= 1
                slot.inbox_next = None
            self._exit(state)
            if slot is None:
                return n
            try:
                slot.coro.close()  # never started: no finally block has anything to run
            except Exception:
                pass
            slot.owner._complete(slot, CANCELLED, Cancelled("the executor was closed"))
            n += 1
