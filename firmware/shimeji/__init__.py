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

# sync primitives (issue 4)
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
# timer (issue 3)
from .clock import MAX_TICKS, Clock, FakeClock, wrap_add, wrap_diff
from .errors import DeadlineExpired, DurationTooLong, NoTimer, Timeout, TimerConfigError
from .timeout import TimeoutGuard, timeout
from .timer import Interval, Timer, Turn, sleep_ms, sleep_until, sleep_us
from .wheel import TimerEntry, TimerWheel

# isort: split
# run loop and boards (issue 6)
from .runloop import RunLoop, run
