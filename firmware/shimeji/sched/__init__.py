"""Scheduling: polling runnable tasks, and the loops that drive it.

- ``lifecycle``: ``TaskLifecycle``, the scheduler's upper half: spawn, cancel, close;
- ``policyset``: its ``set_policy`` and ``set_priority``;
- ``untilcomplete``: its ``run_until_complete``;
- ``scheduler``: ``StaticScheduler`` and its ``tick()``;
- ``waking``: its ``wake()``, the ISR-safe inbox, and parking;
- ``fastpath``: the inlined FIFO tick used when the policy asks for no timing;
- ``detached``: ``spawn_detached``'s common cases in one native call;
- ``runloop``: ``RunLoop`` and ``run()``: timer turn, tick, idle;
- ``background``: running a loop behind the REPL (a thread or a hardware timer);
- ``interrupt``: ``InterruptScheduler``, tasks that preempt the thread level;
- ``levelrun``: the interrupt level's ``micropython.schedule`` callback;
- ``spawning``: ``spawn(coro)`` on the calling task's scheduler, ``join_all(*handles)``.
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.sched",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "StaticScheduler", "shimeji.sched.scheduler",
        "Tick", "shimeji.sched.general",
        "DEFAULT_TICK_SIZE", "shimeji.sched.scheduler",
        "InterruptScheduler", "shimeji.sched.interrupt",
        "RunLoop", "shimeji.sched.runloop",
        "run", "shimeji.sched.runloop",
        "spawn", "shimeji.sched.spawning",
        "join_all", "shimeji.sched.spawning",
        "ThreadBackground", "shimeji.sched.background",
        "TimerBackground", "shimeji.sched.background",
    ),
)
