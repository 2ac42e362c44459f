# PriorityPolicy's priority inheritance: a holder (queued or parked) lifted to its waiter's
# priority until it releases, inherit/restore keeping the task's own priority, and a loan from
# another policy capped.
from gate import Gate
from policyhelp import spawn_at, tick_each
from shimeji import PriorityPolicy, StaticScheduler, core, yield_now
from shimeji.task.waitlist import WaitList


class TinyLock:
    """A test-local async lock that calls the policy's inheritance hooks the way the async
    Mutex does: ``inherit(holder, waiter)`` when a waiter parks, ``restore(holder)`` on
    release. ``await lock`` acquires; ``lock.release()`` hands over to the oldest waiter."""

    def __init__(self, lend=True):
        self.holder = None
        self.waiters = WaitList()
        self.lend = lend
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        me = core.current_slot()
        if self.holder is None:
            self.holder = me
        if self.holder is me:
            raise self._finish.done()
        if me.waiting_on is None:
            self.waiters.push(me)
            if self.lend:
                self.holder.sched.policy.inherit(self.holder, me)
        return core.PARK

    def release(self):
        holder = self.holder
        if self.lend:
            holder.sched.policy.restore(holder)
        nxt = self.waiters.pop()
        self.holder = nxt
        if nxt is not None:
            w = self.waiters.head
            while w is not None and self.lend:
                nxt.sched.policy.inherit(nxt, w)
                w = w.wait_next
            core.wake(nxt)


def _inversion(lend, holder_parks):
    s = StaticScheduler(4, policy=PriorityPolicy())
    lock = TinyLock(lend)
    gh, gm, gl = Gate(), Gate(), Gate()
    ev = []

    async def low():
        await lock
        ev.append("L:got")
        gh.open()
        if holder_parks:
            await gl
        else:
            gm.open()
            await yield_now()
        ev.append("L:release")
        lock.release()
        assert core.current_slot().priority == 1
        await yield_now()
        ev.append("L:done")

    async def high():
        await gh
        ev.append("H:wait")
        await lock
        ev.append("H:got")
        lock.release()

    async def mid():
        await gm
        ev.append("M")

    hl = spawn_at(s, 1, low())
    spawn_at(s, 5, high())
    spawn_at(s, 3, mid())
    s.tick(2)  # high and mid park
    tick_each(s)
    if holder_parks:
        assert hl._live_slot().priority == (5 if lend else 1)  # parked, holding, lent to
        gm.open()
        gl.open()
        tick_each(s)
    assert hl.is_complete() and hl._live_slot() is None
    return ev


def test_inheritance_lifts_a_queued_holder_until_release():
    assert _inversion(True, False) == ["L:got", "H:wait", "L:release", "H:got", "M", "L:done"]
    # Without the loan the middle task runs first: the inversion inheritance prevents.
    assert _inversion(False, False) == ["L:got", "H:wait", "M", "L:release", "H:got", "L:done"]


def test_inheritance_reaches_a_parked_holder():
    assert _inversion(True, True) == ["L:got", "H:wait", "L:release", "H:got", "M", "L:done"]
    assert _inversion(False, True) == ["L:got", "H:wait", "M", "L:release", "H:got", "L:done"]


def test_inherit_and_restore_keep_the_own_priority():
    p = PriorityPolicy()
    s = StaticScheduler(4, policy=p)

    async def idle():
        await yield_now()

    a = spawn_at(s, 2, idle())._live_slot()
    b = spawn_at(s, 6, idle())._live_slot()
    p.inherit(a, b)
    assert (a.priority, a.base_priority, a.inherited, a.pol.queue_pos) == (6, 2, 6, 6)
    p.set_priority(a, 3)  # changing the own priority under a loan keeps the loan
    assert (a.priority, a.base_priority) == (6, 3)
    p.set_priority(a, 7)  # ...unless the own priority is higher
    assert a.priority == 7
    p.restore(a)
    assert (a.priority, a.inherited, a.pol.queue_pos) == (7, None, 7)
    p.inherit(b, a)
    p.restore(b)
    assert (b.priority, b.inherited) == (6, None)
    tick_each(s)


def test_a_loan_from_another_policy_is_capped():
    p = PriorityPolicy(levels=4)
    s = StaticScheduler(2, policy=p)

    async def idle():
        await yield_now()

    a = spawn_at(s, 1, idle())._live_slot()
    other = StaticScheduler(1, policy=PriorityPolicy(levels=30))
    w = other.build_task().priority(20).spawn(idle())._live_slot()
    p.inherit(a, w)
    assert (a.priority, a.pol.queue_pos) == (3, 3)
    p.restore(a)
    assert a.priority == 1
    tick_each(s)
    tick_each(other)
