# WaitCell, WaitQueue, Event and WaitMap: order, wake-before-wait, wake_all, close, cancel.
from shimeji import (
    Event,
    PrimitiveClosed,
    StaticScheduler,
    WaitCell,
    WaiterBusy,
    WaitMap,
    WaitQueue,
)
from support import raises
from synchelp import drain


async def wait_and_log(prim, log, name):
    await prim.wait()
    log.append(name)


async def wait_catching(prim, log, name):
    try:
        await prim.wait()
        log.append(name)
    except PrimitiveClosed:
        log.append(name + " closed")


# -- WaitCell -------------------------------------------------------------------------------


def test_waitcell_wake_after_wait():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    s.spawn(wait_and_log(cell, log, "a"))
    drain(s)
    assert log == [] and cell.waiter is not None
    assert cell.wake() is True
    drain(s)
    assert log == ["a"] and cell.waiter is None and not cell.pending


def test_waitcell_wake_before_wait_is_remembered_once():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    assert cell.wake() is False
    assert cell.wake() is False  # wakes do not count up
    s.spawn(wait_and_log(cell, log, "a"))
    s.spawn(wait_and_log(cell, log, "b"))
    drain(s)
    assert log == ["a"]  # b parks: the one remembered wake went to a
    cell.wake()
    drain(s)
    assert log == ["a", "b"]


def test_waitcell_second_waiter_is_refused():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    s.spawn(wait_and_log(cell, log, "a"))
    h = s.spawn(wait_and_log(cell, log, "b"))
    drain(s)
    with raises(WaiterBusy, "WaitQueue"):
        h.result()
    cell.wake()  # the first waiter is unaffected
    drain(s)
    assert log == ["a"]


def test_waitcell_close_wakes_the_waiter_and_refuses_later_waits():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    s.spawn(wait_catching(cell, log, "a"))
    drain(s)
    cell.close()
    drain(s)
    s.spawn(wait_catching(cell, log, "b"))
    drain(s)
    assert log == ["a closed", "b closed"]
    assert cell.wake() is False and not cell.pending


def test_waitcell_cancel_while_waiting_frees_the_cell():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    h = s.spawn(wait_and_log(cell, log, "a"))
    drain(s)
    h.cancel()
    assert cell.waiter is None  # left at once, before any tick
    drain(s)
    assert h.is_cancelled()
    s.spawn(wait_and_log(cell, log, "b"))
    drain(s)
    cell.wake()
    drain(s)
    assert log == ["b"]


def test_waitcell_wake_given_to_a_task_cancelled_before_it_ran_is_kept():
    s = StaticScheduler(4)
    cell = WaitCell()
    log = []
    h = s.spawn(wait_and_log(cell, log, "a"))
    drain(s)
    cell.wake()
    h.cancel()  # woken, not yet run: the wake must not die with it
    drain(s)
    assert cell.pending
    s.spawn(wait_and_log(cell, log, "b"))
    drain(s)
    assert log == ["b"]


# -- WaitQueue ------------------------------------------------------------------------------


def test_waitqueue_wakes_in_fifo_order():
    s = StaticScheduler(8)
    q = WaitQueue()
    log = []
    for name in "abcd":
        s.spawn(wait_and_log(q, log, name))
    drain(s)
    assert q.count == 4
    for _ in range(4):
        assert q.wake() is True
        drain(s)
    assert log == ["a", "b", "c", "d"]
    assert q.wake() is False  # a WaitQueue does not remember wakes


def test_waitqueue_wake_all_and_close():
    s = StaticScheduler(8)
    q = WaitQueue()
    log = []
    for name in "abc":
        s.spawn(wait_catching(q, log, name))
    drain(s)
    assert q.wake_all() == 3
    drain(s)
    s.spawn(wait_catching(q, log, "d"))
    drain(s)
    q.close()
    drain(s)
    s.spawn(wait_catching(q, log, "e"))
    drain(s)
    assert log == ["a", "b", "c", "d closed", "e closed"]


def test_waitqueue_cancel_while_waiting_leaves_at_once():
    s = StaticScheduler(8)
    q = WaitQueue()
    log = []
    s.spawn(wait_and_log(q, log, "a"))
    hb = s.spawn(wait_and_log(q, log, "b"))
    s.spawn(wait_and_log(q, log, "c"))
    drain(s)
    hb.cancel()
    assert q.count == 2
    q.wake()
    q.wake()
    drain(s)
    assert log == ["a", "c"] and hb.is_cancelled()


def test_waitqueue_wake_of_a_task_cancelled_before_it_ran_passes_on():
    s = StaticScheduler(8)
    q = WaitQueue()
    log = []
    ha = s.spawn(wait_and_log(q, log, "a"))
    s.spawn(wait_and_log(q, log, "b"))
    drain(s)
    q.wake()
    ha.cancel()
    drain(s)
    assert log == ["b"] and q.count == 0


def test_waitqueue_spurious_wake_keeps_the_task_queued():
    s = StaticScheduler(4)
    q = WaitQueue()
    log = []
    h = s.spawn(wait_and_log(q, log, "a"))
    drain(s)
    s.wake(h._live_slot())  # a wake from somewhere else
    drain(s)
    assert log == [] and q.count == 1
    q.wake()
    drain(s)
    assert log == ["a"]


# -- Event --------------------------------------------------------------------------------------


def test_event_set_wakes_all_and_stays_set_until_cleared():
    s = StaticScheduler(8)
    ev = Event()
    log = []
    for name in "ab":
        s.spawn(wait_and_log(ev, log, name))
    drain(s)
    assert ev.waiters() == 2
    ev.set()
    drain(s)
    s.spawn(wait_and_log(ev, log, "c"))  # already set: returns at once
    drain(s)
    ev.clear()
    s.spawn(wait_and_log(ev, log, "d"))
    drain(s)
    assert log == ["a", "b", "c"] and ev.waiters() == 1
    ev.set()
    drain(s)
    assert log == ["a", "b", "c", "d"]


def test_event_cancel_while_waiting_and_close():
    s = StaticScheduler(8)
    ev = Event()
    log = []
    h = s.spawn(wait_catching(ev, log, "a"))
    s.spawn(wait_catching(ev, log, "b"))
    drain(s)
    h.cancel()
    assert ev.waiters() == 1
    ev.close()
    drain(s)
    assert log == ["b closed"] and h.is_cancelled()


# -- WaitMap ------------------------------------------------------------------------------------


async def request(wm, key, log):
    value = await wm.wait(key)
    log.append((key, value))


def test_waitmap_matches_responses_to_requests_in_any_order():
    s = StaticScheduler(8)
    wm = WaitMap()
    log = []
    for key in (7, 3, "temp"):
        s.spawn(request(wm, key, log))
    drain(s)
    assert wm.waiters() == 3 and wm.is_waiting(3)
    assert wm.wake(3, "three") is True
    assert wm.wake(99, "nobody") is False  # not kept
    assert wm.wake("temp", 21) is True
    drain(s)
    assert wm.wake(7) is True
    drain(s)
    assert log == [(3, "three"), ("temp", 21), (7, None)]
    s.spawn(request(wm, 99, log))
    drain(s)
    assert wm.waiters() == 1  # the earlier wake of 99 was not remembered


def test_waitmap_duplicate_key_is_refused_and_close_wakes_everyone():
    s = StaticScheduler(8)
    wm = WaitMap()
    log = []

    async def req_catching(key):
        try:
            log.append((key, await wm.wait(key)))
        except PrimitiveClosed:
            log.append((key, "closed"))

    s.spawn(req_catching(1))
    dup = s.spawn(req_catching(1))
    s.spawn(req_catching(2))
    drain(s)
    with raises(WaiterBusy, "key 1"):
        dup.result()
    wm.close()
    drain(s)
    assert log == [(1, "closed"), (2, "closed")]


def test_waitmap_cancelled_waiter_leaves_and_its_key_is_free():
    s = StaticScheduler(8)
    wm = WaitMap()
    log = []
    h = s.spawn(request(wm, 5, log))
    drain(s)
    h.cancel()
    assert not wm.is_waiting(5)
    assert wm.wake(5, "late") is False
    s.spawn(request(wm, 5, log))
    drain(s)
    wm.wake(5, "ok")
    drain(s)
    assert log == [(5, "ok")]


def test_waiting_outside_a_task_is_refused():
    import shimeji

    with raises(shimeji.NoCurrentTask):
        next(iter(WaitQueue().wait()))
