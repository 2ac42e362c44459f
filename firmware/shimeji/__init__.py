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
from .core import PARK, current_task, wake, yield_now
from .errors import (
    BadArgument,
    BadDuration,
    BadPriority,
    Cancelled,
    ChannelClosed,
    CriticalSectionMisuse,
    DeadlineExpired,
    DurationTooLong,
    ExecutorClosed,
    ForeignAwaitable,
    InvalidCapacity,
    InvalidPermits,
    IOBusy,
    IOFailed,
    JoinSelf,
    LockHeldBySelf,
    LockNotHeld,
    NoCurrentTask,
    NoSockets,
    NotACoroutine,
    NoThreads,
    NoTimer,
    NotOnThisBoard,
    NotPollable,
    PolicyError,
    PoolFull,
    PrimitiveClosed,
    SchedulerBusy,
    SchedulerClosed,
    ShimejiError,
    SlotBusy,
    StaleHandle,
    StreamClosed,
    TaskNotComplete,
    Timeout,
    TimerConfigError,
    TimerFull,
    TraceError,
    WaiterBusy,
    WorkerDied,
    WrongLevel,
    WrongThread,
)

__version__ = "0.2.0"

_T = "shimeji.task."
_S = "shimeji.sched."
_P = "shimeji.policy."
_M = "shimeji.time."
_Y = "shimeji.sync."
_R = "shimeji.trace."
_I = "shimeji.io."

__getattr__ = lazy_names(
    "shimeji",
    {
        # tasks
        "TaskSlot": _T + "slot",
        "JoinHandle": _T + "slot",
        "TaskBuilder": _T + "slot",
        "WaitList": _T + "waitlist",
        # scheduler and run loop
        "StaticScheduler": _S + "scheduler",
        "Tick": _S + "general",
        "DEFAULT_TICK_SIZE": _S + "scheduler",
        "InterruptScheduler": _S + "interrupt",
        "RunLoop": _S + "runloop",
        "run": _S + "runloop",
        "spawn": _S + "spawning",
        "join_all": _S + "spawning",
        # policies
        "Policy": _P + "base",
        "FifoPolicy": _P + "fifo",
        "RoundRobinPolicy": _P + "rr",
        "CfsPolicy": _P + "cfs",
        "PriorityPolicy": _P + "priority",
        "PollStats": _P + "accounting",
        "task_stats": _P + "accounting",
        "preempt_point": _P + "preempt",
        "preempt_due": _P + "preempt",
        # time
        "Clock": _M + "clock",
        "FakeClock": _M + "clock",
        "MAX_TICKS": _M + "clock",
        "wrap_add": _M + "clock",
        "wrap_diff": _M + "clock",
        "TimerEntry": _M + "wheelentry",
        "TimerWheel": _M + "wheel",
        "Timer": _M + "timer",
        "Turn": _M + "timerturn",
        "Interval": _M + "interval",
        "sleep_ms": _M + "sleep",
        "sleep_us": _M + "sleep",
        "sleep_until": _M + "sleep",
        "sleep": _M + "seconds",
        "timeout": _M + "deadline",
        "TimeoutGuard": _M + "deadline",
        # critical sections and sync primitives
        "CriticalSection": _Y + "critical",
        "NoCriticalSection": _Y + "critical",
        "IrqCriticalSection": _Y + "critical",
        "LockCriticalSection": _Y + "critical",
        "default_critical_section": _Y + "critical",
        "blocking": _Y + "blocking:",
        "BlockingMutex": _Y + "blocking:Mutex",
        "CriticalSectionRawMutex": _Y + "blocking",
        "RawMutexSection": _Y + "blocking",
        "ThreadRawMutex": _Y + "blocking",
        "WaitQueue": _Y + "waitqueue",
        "WaitCell": _Y + "waitcell",
        "WaitMap": _Y + "waitmap",
        "Mutex": _Y + "mutex",
        "RwLock": _Y + "rwlock",
        "Semaphore": _Y + "semaphore",
        "Event": _Y + "event",
        "Channel": _Y + "channel",
        # tracing and the live task table
        "Trace": _R + "ring",
        "top": _R + "table",
        # I/O readiness and streams
        "IOPoller": _I + "poller",
        "poller_for": _I + "poller",
        "wait_readable": _I + "wait",
        "wait_writable": _I + "wait",
        "Stream": _I + "streams",
        "StreamReader": _I + "streams",
        "StreamWriter": _I + "streams",
        "Server": _I + "servers",
        "open_connection": _I + "servers",
        "start_server": _I + "servers",
        # the multi-core executor
        "Executor": "shimeji.executor.executor",
    },
)
