# Counters that run for the life of the firmware stay below 2**30 (small ints on
# 32-bit boards), and no intermediate value reaches 2**30 either.
from shimeji import CfsPolicy, Semaphore, StaticScheduler, core, yield_now
from shimeji.policy import cfs
from shimeji.policy.accounting import PollStats
from shimeji.policy.base import fields_of
from shimeji.sched.runloop import RunLoop
from shimeji.task.slot import TaskSlot
from support import cpython_only

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

    def __floordiv__(self, o):
        return self._c(int(self) // int(o))


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
    fields = fields_of(slot)
    fields.polls = Small(TOP)
    fields.run_total_us = Small(TOP - 5)
    fields.hogs = Small(TOP)
    stats.polls = Small(TOP)
    stats.hog_count = Small(TOP)
    stats.record(slot, 20)  # a hog poll: every counter passes the wrap
    assert (fields.polls, fields.run_total_us, fields.hogs) == (1, 14, 0)
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


def _cfs_extremes():
    # Largest charge (clamped), largest remainder, lightest and heaviest weights, a virtual
    # run time at the renormalising threshold plus a full charge of the lightest weight.
    charge = cfs.MAX_CHARGE_US * 1024
    return charge, cfs.RENORM_AT + 2 * (charge // cfs.NICE_TO_WEIGHT[-1] + 1)


def test_cfs_bounds_leave_room_below_2_30():
    charge, top_vruntime = _cfs_extremes()
    assert charge + max(cfs.NICE_TO_WEIGHT) < (1 << 30)  # elapsed * 1024 + vrem in charge()
    assert top_vruntime + cfs.MAX_CHARGE_US < (1 << 30)  # + granularity_us or wake_bonus_us


@cpython_only  # MicroPython cannot compare a plain int with an int subclass (TypeError)
def test_cfs_charge_and_should_yield_never_leave_the_small_ints():
    # The values themselves are Small: any intermediate past 2**30 raises OverflowError here,
    # which a 64-bit unix port (63-bit small ints) would never show. On the 32-bit qemu
    # firmware, test_policy_alloc.py proves the same paths allocate nothing (no heap ints).
    now = [0]
    p = CfsPolicy(granularity_us=50, wake_bonus_us=cfs.MAX_CHARGE_US)
    s = StaticScheduler(4, policy=p, clock_us=lambda: now[0])

    async def spin():
        while True:
            await yield_now()

    hs = [s.build_task().priority(n).spawn(spin()) for n in (-20, 0, 19)]
    s.tick(3)
    _charge, top = _cfs_extremes()
    for h in hs:
        slot = h._live_slot()
        for vr in (0, cfs.RENORM_AT, top - cfs.MAX_CHARGE_US * 1024 // slot.pol.weight - 1):
            for elapsed in (0, 1, 50, cfs.MAX_CHARGE_US, TOP):
                slot.pol.vruntime = Small(vr)
                slot.pol.vrem = Small(slot.pol.weight - 1)
                p.charge(slot, elapsed)  # measured: a plain tick difference
                assert 0 <= slot.pol.vruntime <= top and 0 <= slot.pol.vrem < slot.pol.weight
                slot.pol.vruntime = Small(vr)
                core.context.poll_start = 0
                now[0] = elapsed  # a tick value (time.ticks_diff is C code on a board)
                p.should_yield(slot)
        slot.pol.vruntime = Small(0)
    p.min_vruntime = Small(cfs.RENORM_AT)
    for h in hs:
        h._live_slot().pol.vruntime = Small(cfs.RENORM_AT + 10)
    now[0] = 0
    for _ in range(3):
        s.tick(3)  # picks past the threshold renormalise: every task shifted down by 2**28
    assert p.min_vruntime < cfs.RENORM_AT
