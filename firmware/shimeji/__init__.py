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

# timer (issue 3)
from .clock import MAX_TICKS, Clock, FakeClock, wrap_add, wrap_diff
from .errors import DeadlineExpired, DurationTooLong, NoTimer, Timeout, TimerConfigError
from .timeout import TimeoutGuard, timeout
from .timer import Interval, Timer, Turn, sleep_ms, sleep_until, sleep_us
from .wheel import TimerEntry, TimerWheel

# isort: split
# scheduling policies (issue 5)
from .accounting import PollStats, task_stats
from .cfs import CfsPolicy
from .errors import BadPriority, PolicyError
from .preempt import preempt_due, preempt_point
from .priority import PriorityPolicy
from .rr import RoundRobinPolicy
