"""Tasks: where a task lives and how it ends.

- ``taskslot``: ``TaskSlot`` (one task's state, every link it needs, made up front);
- ``slot``: its ``JoinHandle`` (and ``TaskSlot``, ``TaskBuilder`` re-exported);
- ``waitlist``: ``WaitList``, the intrusive list of slots every wait queue is made of;
- ``pool``: ``TaskPool``, the fixed set of slots, the free list and task ids;
- ``spare``: what a spawn makes before its critical section (a handle, a grown slot).

How tasks are spawned, polled and completed is the scheduler's business (``shimeji.sched``).
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.task",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "TaskSlot", "shimeji.task.slot",
        "JoinHandle", "shimeji.task.slot",
        "TaskBuilder", "shimeji.task.slot",
        "WaitList", "shimeji.task.waitlist",
        "TaskPool", "shimeji.task.pool",
    ),
)
