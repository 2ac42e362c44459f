"""Scheduling policies: which runnable task runs next.

- ``base``: ``Policy``, the interface every policy implements;
- ``fifo``: ``FifoPolicy`` (the default); ``rr``: ``RoundRobinPolicy`` (time slices);
  ``cfs``: ``CfsPolicy`` (fair shares by nice value); ``priority``: ``PriorityPolicy``;
- ``accounting``: ``PollStats``, per-task poll times and hog reports;
- ``preempt``: ``preempt_point()``, where a long computation offers to yield.
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.policy",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "Policy", "shimeji.policy.base",
        "FifoPolicy", "shimeji.policy.fifo",
        "RoundRobinPolicy", "shimeji.policy.rr",
        "CfsPolicy", "shimeji.policy.cfs",
        "PriorityPolicy", "shimeji.policy.priority",
        "PollStats", "shimeji.policy.accounting",
        "task_stats", "shimeji.policy.accounting",
        "preempt_point", "shimeji.policy.preempt",
        "preempt_due", "shimeji.policy.preempt",
    ),
)
