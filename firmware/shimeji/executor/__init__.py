"""The multi-core executor: one worker per core or thread, each with its own scheduler,
sharing work by stealing (docs/executor.md).

- ``executor``: ``Executor``, the workers' set: spawning from anywhere, closing, statistics;
- ``chosen``: the ``Executor`` this port gets (one that raises ``NoThreads`` without ``_thread``);
- ``worker``: ``Worker``, a scheduler that runs on one thread and steals when it runs dry;
- ``steal``: the steal protocol the workers share work by;
- ``idle``: how a worker sleeps (on its bell; in slices on the thread that runs callbacks);
- ``injector``: ``Injector``, the queue of tasks spawned from outside the workers;
- ``threads``: where the worker threads come from (on ESP32: made before the slots, kept).
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.executor",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "Executor", "shimeji.executor.chosen",
        "Worker", "shimeji.executor.worker",
    ),
)
