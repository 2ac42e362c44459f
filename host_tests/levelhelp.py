"""What the interrupt-level tests share: ``settle()`` (a check point: the level's pending
callback runs there) and ``waiter``, a task that records the task it ran as on each wake."""
from shimeji import current_task, port


def settle():
    port.check_point()


async def waiter(cell, log, name, rounds=1):
    for _ in range(rounds):
        await cell.wait()
        log.append((name, current_task().name))
