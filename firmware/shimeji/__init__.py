"""shimeji: an async runtime construction kit for MicroPython firmware.

A fixed pool of task slots, a scheduler you drive one ``tick()`` at a time, and wake-ups that
interrupt handlers may call. See README.md for the model and examples.
"""

from . import port  # first: installs the micropython stand-in under CPython
from .core import PARK, current_task, wake, yield_now
from .errors import (
    Cancelled,
    ForeignAwaitable,
    JoinSelf,
    NoCurrentTask,
    NotACoroutine,
    PoolFull,
    SchedulerBusy,
    SchedulerClosed,
    ShimejiError,
    SlotBusy,
    TaskNotComplete,
)
from .policy import FifoPolicy, Policy
from .scheduler import DEFAULT_TICK_SIZE, StaticScheduler, Tick
from .task import JoinHandle, TaskBuilder, TaskSlot
from .waitlist import WaitList

__version__ = "0.1.0"

# scheduling policies (issue 5)
# sync primitives (issue 4)
from . import blocking
from .accounting import PollStats, task_stats
from .blocking import CriticalSectionRawMutex, RawMutexSection, ThreadRawMutex
from .blocking import Mutex as BlockingMutex
from .cfs import CfsPolicy
from .channel import Channel

# timer (issue 3)
from .clock import MAX_TICKS, Clock, FakeClock, wrap_add, wrap_diff
from .critical import (
    CriticalSection,
    IrqCriticalSection,
    LockCriticalSection,
    NoCriticalSection,
    default_critical_section,
)
from .errors import (
    BadPriority,
    ChannelClosed,
    CriticalSectionMisuse,
    DeadlineExpired,
    DurationTooLong,
    InvalidCapacity,
    InvalidPermits,
    LockNotHeld,
    NoTimer,
    PolicyError,
    PrimitiveClosed,
    Timeout,
    TimerConfigError,
    WaiterBusy,
)
from .event import Event
from .mutex import Mutex
from .preempt import preempt_due, preempt_point
from .priority import PriorityPolicy
from .rr import RoundRobinPolicy
from .rwlock import RwLock
from .semaphore import Semaphore
from .timeout import TimeoutGuard, timeout
from .timer import Interval, Timer, Turn, sleep_ms, sleep_until, sleep_us
from .waitcell import WaitCell
from .waitmap import WaitMap
from .waitqueue import WaitQueue
from .wheel import TimerEntry, TimerWheel
