"""Trace event kinds and what their argument means: one table for the board and the host.

A record is ``(timestamp µs, kind, task id, argument)``. Kinds below 32 fit a byte with room
to spare; later issues add theirs in the reserved range (a ``Trace`` records any kind 1..255,
and ``tools/trace.py`` shows an unknown kind as an instant event with its number).
"""

from micropython import const

# -- the kinds recorded today -----------------------------------------------------------------
SPAWN = const(1)  # a task started; arg: the spawning task's id (0: the run loop, the REPL)
POLL_BEGIN = const(2)  # arg: 0
POLL_END = const(3)  # arg: how the poll ended (END_* below)
PARK = const(4)  # the task now waits; arg: on what (PARK_* below)
WAKE_TASK = const(5)  # woken by another task; arg: the waker's id
WAKE_EXTERNAL = const(6)  # woken from an interrupt handler, another thread or the run loop
WAKE_TIMER = const(7)  # woken by the timer (a sleep or Interval deadline came)
COMPLETE = const(8)  # the task returned
FAIL = const(9)  # the task raised
CANCEL = const(10)  # the task was cancelled (or interrupted, or closed)
TIMER_FIRE = const(11)  # task 0; arg: entries a timer turn fired
PREEMPT = const(12)  # preempt_point() made the task yield
HOG = const(13)  # a poll longer than the policy's hog budget; arg: its µs
DEADLINE_MISS = const(14)  # a timeout() expired in the task; arg: its ms
INTERVAL_MISS = const(15)  # an Interval found deadlines already past; arg: periods skipped
MARK = const(16)  # a user mark (Trace.mark); arg: the user's value

# -- reserved for later issues (recorded by their code, understood by tools/trace.py) ----------
STEAL = const(20)  # a core stole the task; arg: the core it came from
CROSS_CORE_WAKE = const(21)  # woken from another core; arg: that core
IRQ_PREEMPT = const(22)  # interrupt-level preemption of the running task; arg: the irq
IO_READY = const(23)  # an I/O object the task waits on became ready; arg: the poll events

# -- POLL_END arguments: how the poll ended ---------------------------------------------------
END_YIELD = const(0)  # yielded: runnable again at once
END_PARK = const(1)  # parked (a PARK record follows)
END_REWOKEN = const(2)  # parked, but was woken while it ran: runnable again
END_DONE = const(3)  # finished (a COMPLETE, FAIL or CANCEL record follows)
END_FOREIGN = const(4)  # awaited something that is not a shimeji awaitable

# -- PARK arguments: what the task waits on ---------------------------------------------------
PARK_OTHER = const(0)
PARK_TIMER = const(1)  # a sleep or an Interval
PARK_PRIMITIVE = const(2)  # a sync primitive (Mutex, Event, Channel, WaitQueue...)
PARK_IO = const(3)  # an I/O object
PARK_JOIN = const(4)  # another task's JoinHandle


def __getattr__(name):
    """``KIND_NAMES``, ``{kind: name}``, made when asked: tools read it, the firmware does not
    (a dict here kept ~200 B of heap wherever the trace kinds load: the interrupt scheduler,
    the I/O poller)."""
    if name != "KIND_NAMES":
        raise AttributeError(name)
    return {
        SPAWN: "spawn", POLL_BEGIN: "poll_begin", POLL_END: "poll_end", PARK: "park",
        WAKE_TASK: "wake_task", WAKE_EXTERNAL: "wake_external", WAKE_TIMER: "wake_timer",
        COMPLETE: "complete", FAIL: "fail", CANCEL: "cancel", TIMER_FIRE: "timer_fire",
        PREEMPT: "preempt", HOG: "hog", DEADLINE_MISS: "deadline_miss",
        INTERVAL_MISS: "interval_miss", MARK: "mark", STEAL: "steal",
        CROSS_CORE_WAKE: "cross_core_wake", IRQ_PREEMPT: "irq_preempt", IO_READY: "io_ready",
    }


PARK_NAMES = ("other", "timer", "primitive", "io", "join")
END_NAMES = ("yield", "park", "rewoken", "done", "foreign")
