"""Seeing what the runtime did: an allocation-free trace ring and a live task table.

- ``kinds``: the event kinds a trace records, and what each argument means;
- ``ring``: ``Trace``, the ring of records made at start-up, its ``attach`` and ``dump``;
- ``writers``: the ring's layout and its viper writers; ``side``: the side ring that
  interrupt handlers and other threads record into; ``dump``: the hex-line format;
- ``table``: ``top()``, the live table of tasks at the REPL, and ``task_table()``.

The traced ticks themselves are the scheduler's (``sched/traced.py``). ``tools/trace.py``
turns a dump into a Perfetto/Chrome trace and a timeline picture
(docs/trace.md).
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.trace",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "Trace", "shimeji.trace.ring",
        "top", "shimeji.trace.table",
        "task_table", "shimeji.trace.table",
        "TracePolls", "shimeji.trace.table",
        "park_what", "shimeji.trace.writers",
    ),
)
