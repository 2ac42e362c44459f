"""shimeji: an async runtime construction kit for MicroPython firmware.

A fixed pool of task slots, a scheduler you drive one ``tick()`` at a time, a timer wheel
driven by a hardware timer, and sync primitives whose wake-ups interrupt handlers may call.
See README.md for the model and examples.
"""

from . import port  # first: installs the micropython stand-in under CPython

# isort: split
# tasks and the scheduler
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

# isort: split
# timer
from .clock import MAX_TICKS, Clock, FakeClock, wrap_add, wrap_diff
from .errors import DeadlineExpired, DurationTooLong, NoTimer, Timeout, TimerConfigError
from .timeout import TimeoutGuard, timeout
from .timer import Interval, Timer, Turn, sleep_ms, sleep_until, sleep_us
from .wheel import TimerEntry, TimerWheel

# isort: split
# critical sections and sync primitives
from . import blocking
from .blocking import CriticalSectionRawMutex, RawMutexSection, ThreadRawMutex
from .blocking import Mutex as BlockingMutex
from .channel import Channel
from .critical import (
    CriticalSection,
    IrqCriticalSection,
    LockCriticalSection,
    NoCriticalSection,
    default_critical_section,
)
from .errors import (
    ChannelClosed,
    CriticalSectionMisuse,
    InvalidCapacity,
    InvalidPermits,
    LockHeldBySelf,
    LockNotHeld,
    PrimitiveClosed,
    WaiterBusy,
)
from .event import Event
from .mutex import Mutex
from .rwlock import RwLock
from .semaphore import Semaphore
from .waitcell import WaitCell
from .waitmap import WaitMap
from .waitqueue import WaitQueue

# isort: split
# scheduling policies
from .accounting import PollStats, task_stats
from .cfs import CfsPolicy
from .errors import BadPriority, PolicyError
from .preempt import preempt_due, preempt_point
from .priority import PriorityPolicy
from .rr import RoundRobinPolicy

# isort: split
# run loop
from .runloop import RunLoop, run

__version__ = "0.1.0"
