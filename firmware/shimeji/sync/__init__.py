"""Synchronisation: critical sections, and primitives whose wake-ups interrupt handlers may call.

- ``critical``: ``CriticalSection`` and its kinds (no-op, IRQ off), the default one;
  ``locksection``: ``LockCriticalSection``, the kind for threads (unix port, CPython);
- ``blocking``: a blocking mutex over a raw-mutex hook (Embassy's ``blocking_mutex``);
- ``waitqueue``: ``WaitQueue``, the queue of parked tasks every primitive is built on, and
  the awaitable templates; ``waitcell``: one waiter; ``waitmap``: waiters by key;
- ``mutex``, ``rwlock``, ``semaphore``, ``event``, ``channel``: the primitives.
"""

from .._lazy import lazy_names

__getattr__ = lazy_names(
    "shimeji.sync",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "CriticalSection", "shimeji.sync.critical",
        "NoCriticalSection", "shimeji.sync.critical",
        "IrqCriticalSection", "shimeji.sync.critical",
        "LockCriticalSection", "shimeji.sync.locksection",
        "default_critical_section", "shimeji.sync.critical",
        "BlockingMutex", "shimeji.sync.blocking:Mutex",
        "CriticalSectionRawMutex", "shimeji.sync.blocking",
        "RawMutexSection", "shimeji.sync.blocking",
        "ThreadRawMutex", "shimeji.sync.blocking",
        "WaitQueue", "shimeji.sync.waitqueue",
        "WaitCell", "shimeji.sync.waitcell",
        "WaitMap", "shimeji.sync.waitmap",
        "Mutex", "shimeji.sync.mutex",
        "RwLock", "shimeji.sync.rwlock",
        "Semaphore", "shimeji.sync.semaphore",
        "Event", "shimeji.sync.event",
        "Channel", "shimeji.sync.channel",
    ),
)
