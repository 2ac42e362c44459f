"""What the PriorityPolicy tests share: a tick at a time until nothing runs (``tick_each``) and
a spawn at a priority (``spawn_at``)."""


def tick_each(s, limit=1000):
    """``tick(1)`` until a tick polls nothing (at most ``limit``); returns the polling ticks."""
    n = 0
    while n < limit and s.tick(1).polled:
        n += 1
    return n


def spawn_at(s, prio, coro):
    """Spawn ``coro`` on ``s`` at priority ``prio`` (the task builder's)."""
    return s.build_task().priority(prio).spawn(coro)
