# Counters that run for the life of the firmware stay below 2**30 (small ints on
# 32-bit boards), and no intermediate value reaches 2**30 either.
from shimeji import CfsPolicy, Semaphore, StaticScheduler, yield_now
from shimeji.policy.accounting import PollStats
from shimeji.sched.runloop import RunLoop
from shimeji.task.slot import TaskSlot

TOP = (1 << 30) - 1  # the largest small int of a 32-bit board


class Small(int):
    """An int whose arithmetic fails once a result leaves the 32-bit small-int range."""

    def _c(self, v):
        if not -(1 << 30) <= v < (1 << 30):
            raise OverflowError("an intermediate value %d is not a small int" % v)
        return Small(v)

    def __add__(self, o):
        return self._c(int(self) + int(o))

    __radd__ = __add__
    __iadd__ = __add__

    def __sub__(self, o):
        return self._c(int(self) - int(o))

    def __rsub__(self, o):
        return self._c(int(o) - int(self))

    def __mul__(self, o):
        return self._c(int(self) * int(o))

    __rmul__ = __mul__


def test_run_loop_counters_wrap_below_2_30():
    s = StaticScheduler(2)
    loop = RunLoop(s, idle=lambda us: None, max_idle_us=5, collect=lambda: None,
                   collect_min_us=1)
    loop.iterations = TOP
    loop.idles = TOP
    loop.collections = TOP

    async def t():
        await yield_now()

    s.spawn(t())
    loop.step()  # t runs to its end; the idle window collects instead of idling
    loop.step()  # idles
    loop.step()  # idles
    assert (loop.iterations, loop.collections, loop.idles) == (2, 0, 1)


def test_poll_accounting_never_leaves_the_small_ints():
    stats = PollStats(hog_us=10)
    slot = TaskSlot()
    slot.polls = Small(TOP)
    slot.run_total_us = Small(TOP - 5)
    slot.hogs = Small(TOP)
    stats.polls = Small(TOP)
    stats.hog_count = Small(TOP)
    stats.record(slot, 20)  # a hog poll: every counter passes the wrap
    assert (slot.polls, slot.run_total_us, slot.hogs) == (1, 14, 0)
    assert (stats.polls, stats.hog_count) == (0, 0)


def test_semaphore_release_near_the_top_never_leaves_the_small_ints():
    from shimeji import InvalidPermits
    from support import raises

    sem = Semaphore(0)
    sem._permits = Small(TOP - 1)
    with raises(InvalidPermits):
        sem.release(2)
    assert sem.available() == TOP - 1
    sem.release(1)
    assert sem.available() == TOP


def test_cfs_insertion_order_wraps_without_leaving_the_small_ints():
    p = CfsPolicy()
    s = StaticScheduler(2, policy=p)
    p._seq = Small(TOP)
    log = []

    async def t(tag):
        log.append(tag)

    s.spawn(t("a"))
    s.spawn(t("b"))
    while s.tick().has_remaining:
        pass
    assert log == ["a", "b"]


def test_background_steps_wrap_below_2_30():
    from shimeji.sched.background import TimerBackground

    class Board:
        def start_ticker(self, callback):
            pass

        def stop_ticker(self):
            pass

    s = StaticScheduler(2)
    bg = TimerBackground(Board(), RunLoop(s))
    bg.steps = TOP
    bg._step(0)
    assert bg.steps == 0
