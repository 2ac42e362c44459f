# tick_fifo reads one word per poll for "a task was spawned or woken since the last look"
# (sched._news, sched/fastpath.py): every writer of the wake inbox or of the tick's spawn list
# sets it after linking, the tick's set-up sets it, and the tick clears it before it reads the
# lists. So a wake or a spawn made by the task polled, or by an opener between two polls, runs
# in the same tick, in the general path's order; and a task linked into the inbox while the
# word was cleared (by hand here: no writer leaves it so) still runs at the next tick.
from gate import Gate
from shimeji import FifoPolicy, StaticScheduler, yield_now


class GeneralFifo(FifoPolicy):
    """FIFO through the scheduler's general path (only exactly FifoPolicy is inlined)."""


def _run(policy, stale):
    s = StaticScheduler(6, policy=policy)
    log = []
    g = Gate()

    async def waiter():
        log.append("w parks")
        await g
        log.append("w woken")

    async def child():
        log.append("child")

    async def opener():
        await yield_now()  # w has parked
        g.open()  # into the inbox (the tick polls): news
        s.spawn_detached(child())  # after a wake: through the inbox too
        log.append("opened")
        await yield_now()
        log.append("o again")

    s.spawn_detached(waiter())
    s.spawn_detached(opener())
    t = s.tick(10)
    log.append(("|", t.polled, t.completed))
    g2 = Gate()

    async def late():
        await g2
        log.append("late woken")

    s.spawn_detached(late())
    s.tick(10)
    g2.open()  # between ticks: into the inbox
    if stale:
        s._news[0] = 0  # a word left cleared: the next tick's set-up looks anyway
    t = s.tick(10)
    log.append(("|", t.polled, t.completed))
    assert s.live_count() == 0
    return log


def test_wakes_and_spawns_after_the_clear_run_in_the_same_tick_as_on_the_general_path():
    fast = _run(FifoPolicy(), False)
    assert fast == _run(GeneralFifo(), False)
    assert fast == ["w parks", "opened", "w woken", "child", "o again", ("|", 6, 3),
                    "late woken", ("|", 1, 1)]


def test_an_inbox_left_without_its_news_word_still_runs_at_the_next_tick():
    assert _run(FifoPolicy(), True) == _run(FifoPolicy(), False)
