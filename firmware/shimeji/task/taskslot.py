"""``TaskSlot``: one task's storage, made up front (its handle is task/slot.py's).

A scheduler makes ``capacity`` slots when it is built; ``spawn_allocated`` takes a slot the
caller made. Every link a task needs (run queue, wake inbox, wait list, timer) is a field of
its slot, so spawning, waking, waiting and completing allocate nothing.
"""

from ..core import ASLEEP, FREE, QUEUED, RUNNING, WAITING  # noqa: F401 (states, re-exported)
from ..time.wheelentry import SlotTimer
from .words import new_words, set_words, state_of

HANDLE = [None]  # JoinHandle (task/slot.py sets it: it imports this module)


class TaskSlot:
    """Storage for one task. Make your own to use with ``spawn_allocated``."""

    # Fields few tasks use are class-level defaults: a slot gets its own entry at its first
    # store (its first timeout(), I/O wait, Mutex or traced spawn), keeps it, and reads it as
    # before. Fewer names in ``__init__`` make every slot's attribute table smaller: 27 names
    # fit a 29-entry table (464 B on the unix port, 232 B on 32-bit) where 31 took a 37-entry
    # one (592 B, 296 B). A table grows only when full (2 entries to spare here: the mutex's
    # and the facade's sleep fit, or a trace's count); a slot that uses timeouts or I/O grows
    # once, at the first use, when that group's first use allocates anyway (its TimerEntry,
    # the poller's entry), and keeps the larger table: one allocation for the slot's
    # lifetime, not per wait. A policy that keeps fields gives the slot its priority names
    # with its ``PolicyFields`` (policy/base.py), at ``bind`` or the slot's first use.
    # -- timeouts (time/deadline.py): the TimerEntry of the earliest pending timeout(), made
    # by the slot's first; the TimeoutGuard that armed it; a TimeoutGuard kept for reuse.
    deadline = None
    deadline_owner = None
    timeout_guard = None
    # -- I/O readiness (io/wait.py, io/readop.py): the object and direction waited for, the
    # events the poller delivered, the poller's entry; ``waiting_on`` is the IOPoller then.
    io_obj = None
    io_mask = 0
    io_events = 0
    io_entry = None
    # -- sync primitives: the Mutexes this task holds, linked through Mutex._held_next.
    held_locks = None
    # -- shimeji.asyncio: the slot's reusable sleep_ms awaitable (asyncio/sleeping.py).
    fsleep = None
    # -- priority and its inheritance (PriorityPolicy, CfsPolicy; read across schedulers by
    # priority inheritance): the effective priority or nice, the task's own value, a value
    # lent by a blocked waiter. Plain FIFO never writes them.
    priority = 0
    base_priority = 0
    inherited = None
    # -- tracing: wakes while a trace is attached (trace/ring.py sets it at a traced spawn).
    wakes = 0

    def __init__(self):
        self.sched = None  # owning scheduler while a task lives here; a pool slot on its
        # scheduler's free list keeps it (TaskPool._free_push, the completions), so spawn's
        # fast path does not write it (docs/architecture.md, the in-line completion's notes)
        self.coro = None
        self.id = 0
        self.name = None
        # The state, the throw flag and "woken while it ran" (rewoken) are machine words
        # (task/words.py): ``self.w``, made here, never replaced, and its address ``self.wa``
        # (what viper casts), set together by set_words.
        set_words(self, new_words())
        self.owner = None  # its pool (a pool slot), or its pool's OwnedBy (first use: pool.py)
        self.pooled = False  # True for slots made by the scheduler's pool
        self.throw_exc = None  # exception to throw in at the next poll (with its flag: words.py)
        self.cancel_requested = False
        # True once the task may have left something for its completion to clear: set by
        # whatever links it on a wait list (``waiting_on``), links a joiner on its ``joiners``
        # or sets its ``throw_exc``, or names it (``_start``: the completion clears the name);
        # every wait that sets ``wait_phase`` links it first. The FIFO tick's in-line
        # completion reads this one field instead of those five, and clears it
        # (sched/fastpath.py). Set too often is only slower, never wrong. Set too where a
        # slot runs on a scheduler that is not its owner (``spawn_allocated``, the facade's
        # main task): a clean slot's in-line completion puts it on the completing scheduler's
        # free list without reading ``owner``. (An executor worker, whose slots move by steals
        # and the injector, completes by its own ``_complete``, which reads it.)
        self.dirty = False
        handle = HANDLE[0]
        if handle is None:  # task.slot not imported yet (it sets HANDLE when it is)
            from .slot import JoinHandle as handle
        handle = handle()
        # Its two fields exist from the start (_ref: its class default, "never given a task"):
        # reusing it (spawn_detached) then stores into them and allocates nothing.
        handle._ref = handle._ref
        handle.id = 0
        self.handle = handle
        self.handle_out = False  # the handle was handed out: the next task gets a new one
        self.joiners = None  # WaitList, made by the scheduler that owns the slot
        # Run queue, wake inbox and free-list links.
        self.run_next = None
        self.run_prev = None
        self.inbox_next = None
        self.free_next = None
        # Wait lists (waitlist.py) and what a waker delivers.
        self.waiting_on = None
        self.wait_next = None
        self.wait_prev = None
        self.wait_phase = 0
        self.wait_key = None
        self.wait_status = 0
        self.wait_value = None
        # -- timer: the slot's timer entry (``cancel()`` is called when the task stops waiting).
        self.timer = SlotTimer(self)  # sleeps and Interval waits: its fields are words (4-6)
        # (timeouts, I/O, held Mutexes, priorities, a trace's count: class-level defaults)

        # Virtual run time, time slice, queue position, accounting: a PolicyFields
        # (policy/base.py) made by a policy that keeps them; None under plain FIFO.
        self.pol = None

    def __repr__(self):
        return "<TaskSlot id=%d name=%r state=%d>" % (self.id, self.name, state_of(self))
