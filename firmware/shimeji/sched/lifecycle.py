"""``TaskLifecycle``: how tasks enter and leave a scheduler.

Spawning (pool slots, caller-owned slots, the builder), cancellation and closing; policy
switching (policyset.py) and ``run_until_complete`` (untilcomplete.py) are taken in as its
methods. ``StaticScheduler`` (scheduler.py) derives from it and adds the machinery these rely
on: wakes, the inbox, the tick, parking and completion.
"""

import micropython
from micropython import const

from .. import core
from ..errors import Cancelled, PoolFull, SchedulerBusy
from ..port import CORO_TYPE as _CORO_TYPE  # what calling an ``async def`` function returns
from ..task.pool import TaskPool
from ..task.slot import CANCELLED, QUEUED, RUNNING, JoinHandle, new_handle
from .policyset import _check_level, set_policy, set_priority
from .untilcomplete import _idle, run_until_complete

_ID_MASK = const(0x3FFFFFFF)
_QUEUED = const(1)
_SECTION_WAIT_MS = const(2000)  # how long close() waits for another thread's section


class TaskLifecycle(TaskPool):
    """Spawning, cancelling and closing; not used on its own (see ``StaticScheduler``)."""

    # -- configuration (policyset.py) and running one coroutine (untilcomplete.py) ------------

    set_policy = set_policy
    _check_level = _check_level
    set_priority = set_priority
    run_until_complete = run_until_complete

    # -- spawning -----------------------------------------------------------------------------

    @micropython.native
    def spawn(self, coro, name=None, _coro_type=_CORO_TYPE, _handle=JoinHandle, _new=new_handle):
        """Run ``coro`` in a free pool slot; returns its ``JoinHandle``. Allocates one small
        handle when the slot's last handle was handed out (``spawn_detached``: nothing).

        Raises ``PoolFull`` if every slot holds a live task (the scheduler is unchanged; the
        coroutine stays yours). Not ISR-safe: spawn from tasks, the run loop or the REPL, on the
        thread that ticks the scheduler (from other threads use an ``Executor``). A task spawned
        by a running task is queued when that task's poll ends, like a task it wakes. Raises
        ``WrongLevel`` from a task of an interrupt-level scheduler."""
        # Design note: ``_start`` in line for a task's spawn while tick_fifo polls (no name),
        # globals as default-argument locals. ``_local_ok`` is True only while tick_fifo polls
        # on this thread, untraced, on an open scheduler whose ids have not wrapped (see
        # fastpath.py), and its inbox is empty (a wake into the inbox while a tick polls
        # clears it, the tick's drain sets it again): no ``closed``, ``ids_wrapped``,
        # ``_polling``, ``_trace`` or ``_inbox_head`` reads here, and no context read: a tick
        # that runs while this scheduler's task polls (driven by it, or an interrupt level)
        # holds ``_local_ok`` False until it returns (hold_local).
        # No module global either (nor builtin): a native function that reads one swaps the
        # module's globals in and out around its body under an exception handler (nlr_push),
        # ~300 instructions per call on the unix port; PoolFull is raised by _refuse (a name
        # the firmware's sorted qstr pool had: a new one renumbers every later qstr and moves
        # look-ups in and out of MicroPython's look-up cache: measured +155 a task on the STM32).
        if self._local_ok and name is None and coro.__class__ is _coro_type:
            slot = self._free_head
            task_id = self._next_id
            if slot is None:  # (no ``is not``: in native code it is a runtime call more)
                pass
            elif task_id < _ID_MASK:
                self._free_head = slot.run_next  # off the free list (TaskPool._take_free,
                # inlined; its run_next stays: the free list's top, see below)
                self._next_id = task_id + 1
                if slot.handle_out:  # its last handle was handed out: a new one (see _start)
                    handle = _new(_handle)
                    handle._ref = slot
                    handle.id = task_id
                    slot.handle = handle
                else:  # nobody outside holds it: reused (spawn_detached gives it back again)
                    handle = slot.handle  # (nameless, as the free slot: the completions)
                    handle._ref = slot
                    handle.id = task_id
                    slot.handle_out = True
                slot.coro = coro  # (its sched is self: a free pool slot keeps it, TaskSlot)
                slot.id = task_id  # (its state word stays FREE until its first poll: the
                # store is ~300 instructions in native code; a slot holding a coroutine is
                # live, and state_of() reads QUEUED for it: task/words.py W_STATE)
                # A piece of run queue (run_next), spliced in by the tick, which sets the last
                # one's run_next. Its last links to the free list's top already (task/pool.py),
                # the slot just taken: appended with no store.
                if self._local_tail is None:
                    self._local_head = slot
                    self._news[0] = 1  # (tick_fifo reads this one word per poll)
                self._local_tail = slot  # (counted by tick_fifo when it splices the list in)
                return handle
        return self._spawn(coro, name)

    @micropython.native
    def _spawn(self, coro, name, _ctx=core.context, _coro_type=_CORO_TYPE, _type=type):
        # spawn's every other case: checks, a slot, then _start (the tick's list, the inbox or
        # the policy's queue). Apart from spawn so that the in-line case's call sets up only
        # the defaults it reads: a native call copies every default in, ~36 instructions each
        # on the unix port (-47 a joined spawn). A name the firmware's qstr pool has (the
        # Executor's own _spawn; no scheduler class defines one): see the design note above.
        running = _ctx.sched
        if self.closed or _type(coro) is not _coro_type or (
                running is not None and running is not self and running.level != self.level):
            self._check_spawn(coro)  # raises unless coro is some other coroutine-like object
        slot = self._free_head
        if slot is None:
            if self._returned is not None and self._reclaim():
                return self.spawn(coro, name)
            if not self.grow:
                self._refuse()  # raises PoolFull (see the design note: no global read here)
            return self._start(self._grow_slot(), coro, name)
        self._free_head = slot.run_next  # off the free list (TaskPool._take_free, inlined)
        return self._start(slot, coro, name)  # the tick's list, the inbox or the policy's queue

    def _refuse(self):
        raise PoolFull("all %d task slots hold live tasks: make the scheduler with a larger "
                       "capacity, or join/cancel tasks before spawning more" % self.capacity)

    @micropython.native
    def spawn_detached(self, coro, name=None):
        """``spawn`` for a task nobody joins: returns None. The slot's handle is not handed
        out, so it is reused: spawning allocates nothing. Not ISR-safe."""
        handle = self.spawn(coro, name)  # (a chained store would need a heap frame)
        handle._ref.handle_out = False  # not handed out: the slot reuses it

    def spawn_allocated(self, slot, coro, name=None, detached=False):
        """Run ``coro`` in ``slot``, a ``TaskSlot`` the caller made and owns; returns its
        ``JoinHandle``, or None with ``detached=True`` (then allocation-free, as
        ``spawn_detached``). Not ISR-safe."""
        self._check_spawn(coro)  # first: a refused spawn leaves the slot unclaimed
        self._adopt(slot)
        slot.dirty = True  # not a pool slot: its completion's slow way (TaskSlot.dirty)
        handle = self._start(slot, coro, name)
        if detached:
            slot.handle_out = False
            return None
        return handle

    def build_task(self):
        """A ``TaskBuilder`` for name, priority or a caller-owned slot (the scheduler's one
        builder, reset). Not ISR-safe."""
        return self._builder.reset()

    @micropython.native
    def _start(self, slot, coro, name, _handle=JoinHandle, _new=new_handle, _gen=_CORO_TYPE):
        task_id = self._next_id
        if task_id < _ID_MASK and not self.ids_wrapped:  # TaskPool._new_id's fast case
            self._next_id = task_id + 1
        else:
            task_id = self._new_id()
        if slot.handle_out:  # the old one was handed out: never reuse it; a new one, made
            handle = _new(_handle)  # (not a facade Task's type: the facade sets a
            handle._ref = slot  # fresh Task and handle_out False itself)
            handle.id = task_id
            if name is not None:
                handle.name = name
            slot.handle = handle
        else:  # nobody outside holds it: the slot reuses it
            handle = slot.handle
            handle._ref = slot
            handle.id = task_id
            if name is not None or handle.name is not None:
                handle.name = name
            slot.handle_out = True  # spawn hands it out (spawn_detached takes that back)
        slot.sched = self
        slot.coro = coro
        slot.id = task_id
        slot.name = name
        if name is not None:  # its completion clears the name: a free slot's is None
            slot.dirty = True  # (spawn's fast path does not write it; TaskSlot.dirty)
        pol = slot.pol  # (a policy's fields: accounting starts again for the new task)
        if pol is not None:
            pol.polls = 0
        slot.w[0] = _QUEUED  # (a const: QUEUED is a module global, a dict lookup per spawn)
        if coro.__class__ is _gen:  # (no globals here: defaults)
            pass
        else:  # not a generator: the viper tick polls it by its own send (task/words.py W_SEND)
            slot.w[7] = 1
        if self._local_ok or (self._news[1] and self._inbox_head is None):
            # tick_fifo (or tick_fifo_traced: word 1 of _news) polls on this thread: the
            # tick's own list, no critical section (fastpath.py); once this poll woke a task
            # (in the inbox: the wake cleared _local_ok), spawns follow it through the inbox:
            # order is kept. (The same test as spawn's in-line case: a piece of the tick's
            # list then holds consecutive ids, see fastpath.py.)
            tail = self._local_tail  # (linked through run_next: see spawn)
            if tail is None:
                self._local_head = slot
                self._news[0] = 1  # (tick_fifo reads this one word per poll)
            else:
                tail.run_next = slot
            slot.run_next = self._free_head  # (a grown or caller-owned slot: task/pool.py)
            self._local_tail = slot  # (counted by tick_fifo when it splices the list in)
        elif self._polling or self.parallel:  # the tick owns the run queue: the inbox
            self._spawned += 1  # _end_tick adds the tick's spawns to spawned_total
            state = self._enter()
            slot.inbox_next = None
            tail = self._inbox_tail
            if tail is None:
                self._inbox_head = slot
            else:
                tail.inbox_next = slot
            self._inbox_tail = slot
            self._news[0] = 1  # (tick_fifo reads this one word per poll)
            self._exit(state)
        else:
            self._spawned += 1
            fifo = self._fifo
            if fifo is None:
                self._add(slot)
            else:  # FifoPolicy.add, inlined
                slot.run_next = None
                tail = fifo.tail
                if tail is None:
                    fifo.head = slot
                else:
                    tail.run_next = slot
                fifo.tail = slot
        if self._trace is not None:
            self._trace.spawned(slot)
        return handle

    # -- cancellation, closing, introspection -----------------------------------------------------

    def cancel_slot(self, slot, exc=None):
        """Cancel the task in ``slot`` (see ``JoinHandle.cancel``); ``exc``: its ``Cancelled``,
        made by a caller that holds a section (interrupt.py). Not ISR-safe."""
        self._check_level("cancel")
        if slot.coro is None or slot.sched is not self or slot.cancel_requested:
            return False  # (finished: no coroutine; FREE may be a task not yet polled)
        if exc is None:  # first: a MemoryError here changes nothing
            exc = Cancelled("the task was cancelled")
        slot.cancel_requested = True
        slot.throw_exc = exc
        slot.w[1] = 1  # (its flag: task/words.py)
        slot.dirty = True  # (a cancel in its own last poll: its completion drops it)
        if slot.w[0] != RUNNING:  # a running task is not inside an awaitable
            self._unwait(slot)
        self.wake(slot)
        return True

    def close(self):
        """Refuse new spawns and end every live task now: each coroutine is closed (its
        ``finally`` blocks run) and its handle reports ``Cancelled``. Call it from the run
        loop or the REPL, not from a task. Not ISR-safe."""
        self._check_level("close")
        if self._polling:
            raise SchedulerBusy("close() was called from inside a task: cancel the tasks, or "
                                "call close() from the run loop after tick() returns")
        self._free_section("close")
        self.closed = True
        self._local_next = False  # (fastpath.tick_fifo: no spawn on the tick's own list)
        for slot in self.live_slots():
            if slot.w[0] <= QUEUED:  # (FREE: spawned in line, queued, never polled)
                self.policy.remove(slot)
            try:
                slot.coro.close()
            except Exception:  # a finally block that raises must not stop the close
                pass
            self._complete(slot, CANCELLED, Cancelled("the scheduler was closed"))
        state = self._enter()
        self._inbox_head = None
        self._inbox_tail = None
        self._exit(state)

    def _free_section(self, what):
        # A Ctrl-C raised inside a critical section on this thread left it held: leave it.
        # Then wait, at most _SECTION_WAIT_MS, for another thread that holds it: a section
        # held longer than that is a bug elsewhere, reported instead of a hang.
        cs = self.critical_section
        cs.leave_interrupted()
        waited = 0
        state = cs.try_enter()
        while state is None:
            if waited >= _SECTION_WAIT_MS:
                raise SchedulerBusy(
                    "%s: the critical section has been held by another thread for %d ms; end "
                    "or unblock that thread (a thread stopped inside a section keeps it "
                    "forever), then call %s again" % (what, _SECTION_WAIT_MS, what))
            _idle(None)  # 1 ms
            waited += 1
            state = cs.try_enter()
        cs.exit(state)
