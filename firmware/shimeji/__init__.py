"""shimeji: an async runtime construction kit for MicroPython firmware.

A fixed pool of task slots, a scheduler you drive one ``tick()`` at a time, a timer wheel
driven by a hardware timer, and sync primitives whose wake-ups interrupt handlers may call.

The package tree is the architecture (docs/architecture.md):

- ``core``, ``errors``, ``port``: the task/scheduler protocol, every error, the host shims;
- ``task``: task slots, join handles, the slot pool and a task's life cycle;
- ``policy``: which runnable task runs next (FIFO, round-robin, CFS, priority);
- ``sched``: the scheduler and its tick, the run loop, running behind the REPL;
- ``time``: the clock, the timer wheel, the timer, sleeps and timeouts;
- ``sync``: critical sections and the primitives built on wait queues;
- ``io``: waiting on sockets, UARTs and pipes; streams and servers;
- ``trace``: the trace ring and ``top()``;
- ``executor``: several schedulers, one per core or thread, that steal work;
- ``platform``: what a board gives (``boards/<name>/shimeji_board.py`` builds on it);
- ``asyncio``: the asyncio API over shimeji (``import shimeji.asyncio as asyncio``).

Every public name is importable from here (``from shimeji import Mutex``); each is loaded
the first time it is used, so ``import shimeji`` costs little and a program pays only for the
parts it uses.
"""

from . import _names  # first: the hot paths' names, interned before they are used

# isort: split
from . import port  # installs the micropython stand-in under CPython

# isort: split
from . import core, errors
from ._lazy import lazy_names
from .core import PARK, current_task, yield_now
from .core import public_wake as wake  # (checked: core.wake, shimeji's own, checks nothing)
from .errors import (  # (the rarer errors: lazy names below, made at first use)
    BadArgument,
    BadDuration,
    Cancelled,
    CriticalSectionMisuse,
    ForeignAwaitable,
    InvalidCapacity,
    JoinSelf,
    NoCurrentTask,
    NotACoroutine,
    NoThreads,
    PolicyError,
    PoolFull,
    SchedulerBusy,
    SchedulerClosed,
    ShimejiError,
    SlotBusy,
    StaleHandle,
    TaskNotComplete,
    WrongLevel,
    WrongThread,
)

__version__ = "0.2.0"

__getattr__ = lazy_names(
    "shimeji",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        # tasks
        "TaskSlot", "shimeji.task.slot",
        "JoinHandle", "shimeji.task.slot",
        "TaskBuilder", "shimeji.task.slot",
        "WaitList", "shimeji.task.waitlist",
        # scheduler and run loop
        "StaticScheduler", "shimeji.sched.scheduler",
        "Tick", "shimeji.sched.general",
        "DEFAULT_TICK_SIZE", "shimeji.sched.scheduler",
        "InterruptScheduler", "shimeji.sched.interrupt",
        "RunLoop", "shimeji.sched.runloop",
        "run", "shimeji.sched.runloop",
        "spawn", "shimeji.sched.spawning",
        "join_all", "shimeji.sched.spawning",
        # policies
        "Policy", "shimeji.policy.base",
        "FifoPolicy", "shimeji.policy.fifo",
        "RoundRobinPolicy", "shimeji.policy.rr",
        "CfsPolicy", "shimeji.policy.cfs",
        "PriorityPolicy", "shimeji.policy.priority",
        "PollStats", "shimeji.policy.accounting",
        "task_stats", "shimeji.policy.accounting",
        "preempt_point", "shimeji.policy.preempt",
        "preempt_due", "shimeji.policy.preempt",
        # time
        "Clock", "shimeji.time.clock",
        "FakeClock", "shimeji.time.clock",
        "MAX_TICKS", "shimeji.time.clock",
        "wrap_add", "shimeji.time.clock:public_wrap_add",
        "wrap_diff", "shimeji.time.clock:public_wrap_diff",
        "TimerEntry", "shimeji.time.wheelentry",
        "TimerWheel", "shimeji.time.wheel",
        "Timer", "shimeji.time.timer",
        "Turn", "shimeji.time.timerturn",
        "Interval", "shimeji.time.interval",
        "sleep_ms", "shimeji.time.sleep",
        "sleep_us", "shimeji.time.sleep",
        "sleep_until", "shimeji.time.sleep",
        "sleep", "shimeji.time.seconds",
        "timeout", "shimeji.time.deadline",
        "TimeoutGuard", "shimeji.time.deadline",
        # critical sections and sync primitives
        "CriticalSection", "shimeji.sync.critical",
        "NoCriticalSection", "shimeji.sync.critical",
        "IrqCriticalSection", "shimeji.sync.critical",
        "LockCriticalSection", "shimeji.sync.locksection",
        "default_critical_section", "shimeji.sync.critical",
        "blocking", "shimeji.sync.blocking:",
        "BlockingMutex", "shimeji.sync.blocking:Mutex",
        "CriticalSectionRawMutex", "shimeji.sync.blocking",
        "RawMutexSection", "shimeji.sync.blocking",
        "ThreadRawMutex", "shimeji.sync.blocking",
        "WaitQueue", "shimeji.sync.waitqueue",
        "WaitCell", "shimeji.sync.waitcell",
        "WaitMap", "shimeji.sync.waitmap",
        "Mutex", "shimeji.sync.mutex",
        "RwLock", "shimeji.sync.rwlock",
        "Semaphore", "shimeji.sync.semaphore",
        "Event", "shimeji.sync.event",
        "Channel", "shimeji.sync.channel",
        # tracing and the live task table
        "Trace", "shimeji.trace.ring",
        "top", "shimeji.trace.table",
        # I/O readiness and streams
        "IOPoller", "shimeji.io.poller",
        "poller_for", "shimeji.io.poller",
        "wait_readable", "shimeji.io.wait",
        "wait_writable", "shimeji.io.wait",
        "Stream", "shimeji.io.streams",
        "StreamReader", "shimeji.io.streams",
        "StreamWriter", "shimeji.io.streams",
        "Server", "shimeji.io.servers",
        "open_connection", "shimeji.io.servers",
        "start_server", "shimeji.io.servers",
        # the multi-core executor
        "Executor", "shimeji.executor.chosen",
        # the errors only some programs raise
        "BadPriority", "shimeji.errors",
        "ChannelClosed", "shimeji.errors",
        "DeadlineExpired", "shimeji.errors",
        "DurationTooLong", "shimeji.errors",
        "ExecutorClosed", "shimeji.errors",
        "IOBusy", "shimeji.errors",
        "IOFailed", "shimeji.errors",
        "InvalidPermits", "shimeji.errors",
        "LockHeldBySelf", "shimeji.errors",
        "LockNotHeld", "shimeji.errors",
        "NoSockets", "shimeji.errors",
        "NoTimer", "shimeji.errors",
        "NotOnThisBoard", "shimeji.errors",
        "NotPollable", "shimeji.errors",
        "PrimitiveClosed", "shimeji.errors",
        "StreamClosed", "shimeji.errors",
        "Timeout", "shimeji.errors",
        "TimerConfigError", "shimeji.errors",
        "TimerFull", "shimeji.errors",
        "TraceError", "shimeji.errors",
        "WaiterBusy", "shimeji.errors",
        "WorkerDied", "shimeji.errors",
    ),
)
