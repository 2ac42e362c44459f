"""What the task tests share: ``drain`` (tick until nothing is runnable, bounded) and
``returns``, a task that yields a few times and returns a value."""
from shimeji import yield_now


def drain(s, limit=1000):
    for _ in range(limit):
        if not s.tick().has_remaining:
            return
    raise AssertionError("scheduler did not go idle")


async def returns(value, yields=0, log=None, tag=None):
    for i in range(yields):
        if log is not None:
            log.append((tag, i))
        await yield_now()
    return value
