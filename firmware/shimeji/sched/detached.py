"""``spawn_detached`` in one native call: a spawn whose handle nobody gets.

Design note: ``sched.spawn_detached(coro)`` was ``spawn`` (itself a call to ``_start`` outside
a tick) and then a store giving the handle back: three native calls on a spawn from the run
loop, each ~300 instructions of argument set-up on the unix port alone, and the slot's
``handle_out`` written twice. Here its two common cases are in line:

- a task's spawn while ``tick_fifo`` polls it: ``spawn``'s in-line case (``_local_ok``:
  which also says the inbox is empty; see lifecycle.py and fastpath.py), onto the tick's own
  list;
- a spawn from outside any task onto a FIFO scheduler that no tick is polling (a run loop, a
  REPL line, a driver that spawns a batch and then ticks): ``_start``'s last case, onto the
  ``FifoPolicy``'s queue (exactly ``FifoPolicy``: ``_fifo``).

Both need a plain coroutine with no name, a free pool slot whose handle was not handed out
(it is reused: nothing is allocated) and ids that never wrapped; the second also an open,
untraced scheduler that is not an executor's worker.

A free slot has no name, and neither has a handle it reuses: ``_start`` marks a named task's
slot ``dirty`` and every completion clears both names (the slot's, and its handle's when not
handed out), so neither spawn reads or writes a name (round seventeen: before, the name to
clear was read from the slot here and ``spawn`` wrote ``slot.name``). Nor are the reused
handle's ``_ref`` and ``id`` written: nobody holds the handle, so they stay as the slot's last
task left them until something hands it out while the task runs, and each of those writes
them first (``current_task()``, asyncio's ``current_task()`` and ``gather()``, which keeps the
awaiting task's handle); completions test ``_ref is slot`` or write it whole (session 25: -608
instructions a detached spawn from outside a task, -550 from a task). Anything else goes
through ``spawn``, unchanged. ``StaticScheduler`` binds this as ``spawn_detached`` only
when its class keeps ``TaskLifecycle``'s ``spawn`` and ``_start`` (an ``InterruptScheduler``
or a worker spawns under its own rules, so its detached spawns go through its ``spawn``).
"""

import micropython
from micropython import const

from .. import core
from .lifecycle import _CORO_TYPE

_ID_MASK = const(0x3FFFFFFF)


@micropython.native
def spawn_detached_inline(self, coro, name=None, _ctx=core.context, _coro_type=_CORO_TYPE):
    """``spawn`` for a task nobody joins: returns None. The slot's handle is not handed out,
    so it is reused: spawning allocates nothing. Not ISR-safe."""
    if name is None and coro.__class__ is _coro_type:
        slot = self._free_head
        task_id = self._next_id
        if slot is None:  # (no ``is not``: in native code it is a runtime call more)
            pass
        elif task_id < _ID_MASK:
            fifo = None
            ok = False
            if slot.handle_out:  # its last handle was handed out: spawn makes a new one
                pass
            elif self._local_ok:  # tick_fifo polls a task of this scheduler on this thread,
                ok = True  # its inbox empty (a wake into it clears _local_ok: lifecycle.py)
            elif self._polling or not self._local_next:  # (False once closed, parallel or
                pass  # ids_wrapped) another tick polls (general, traced, held), or spawn refuses
            elif self._trace is None and _ctx.sched is None:  # outside any task
                fifo = self._fifo
                if fifo is None:  # another policy: its add(), through spawn
                    pass
                else:
                    ok = True
            if ok:
                self._free_head = slot.run_next  # off the free list (TaskPool._take_free)
                self._next_id = task_id + 1  # (its handle's fields: see above)
                slot.coro = coro  # (its sched is self: a free pool slot keeps it, TaskSlot)
                slot.id = task_id  # (its state word stays FREE until its first poll, as
                # spawn's in-line case leaves it, on either list: task/words.py W_STATE)
                if fifo is None:  # the tick's own list, spliced in and counted by tick_fifo
                    tail = self._local_tail
                    if tail is None:
                        self._local_head = slot
                        self._news[0] = 1  # (tick_fifo reads this one word per poll)
                    else:
                        tail.run_next = slot
                    self._local_tail = slot
                else:  # FifoPolicy.add, in line; counted at the next tick's end
                    self._spawned += 1
                    slot.run_next = None
                    tail = fifo.tail
                    if tail is None:
                        fifo.head = slot
                    else:
                        tail.run_next = slot
                    fifo.tail = slot
                return
    handle = self.spawn(coro, name)  # (a chained store would need a heap frame)
    handle._ref.handle_out = False  # not handed out: the slot reuses it
