# A task that a running facade task creates (create_task's in-line case, while the FIFO tick
# polls) keeps its slot's state word FREE until its first poll writes RUNNING, as a task that
# spawn() queues in line does (task/words.py W_STATE, test_sched_spawn_unpolled.py): the
# QUEUED that create_task stored there was a store the scheduler never reads (state_of()
# answers QUEUED for a live slot whose word is FREE). Until its first poll the task is live:
# listed, not done, woken as a no-op, cancellable; nothing else changes.
import shimeji.asyncio as asyncio
from facadehelp import fresh_loop
from shimeji import core
from shimeji.task.words import state_of


async def child(log, x):
    log.append(x)
    return x


def test_a_task_created_by_a_task_keeps_its_word_free_until_its_first_poll():
    fresh_loop()
    log = []
    seen = []

    async def main():
        t = asyncio.create_task(child(log, 1))
        slot = t._ref
        seen.append((slot.w[0], state_of(slot), t.done(), t in asyncio.all_tasks()))
        slot.sched.wake(slot)  # a no-op, as for any queued task
        c = asyncio.create_task(child(log, 2))
        seen.append(c.cancel())  # before its first poll: it never runs
        await asyncio.sleep(0)
        seen.append((state_of(slot), t.done(), c.cancelled()))
        return await t

    assert asyncio.run(main()) == 1
    assert seen[0] == (core.FREE, core.QUEUED, False, True)
    assert seen[1] is True
    assert seen[2] == (core.FREE, True, True)  # (both finished: their slots are free)
    assert log == [1]


def test_the_first_poll_writes_running_and_a_wait_parks_it():
    fresh_loop()
    seen = []
    ev = asyncio.Event()

    async def waiter():
        seen.append(state_of(me[0]._ref))  # running now
        await ev.wait()
        return "woken"

    me = []

    async def main():
        t = asyncio.create_task(waiter())
        me.append(t)
        await asyncio.sleep(0)
        seen.append(state_of(t._ref))  # parked on the event
        ev.set()
        return await t

    assert asyncio.run(main()) == "woken"
    assert seen == [core.RUNNING, core.WAITING]
