# ``await handle`` by the join ring (sched/owntick.py): on MicroPython a task that awaits the
# handle of a running task of its own scheduler, while the FIFO tick polls, parks by a C
# iterator (no JoinHandle.__next__ call). What it must keep: the value, None, the error and
# a cancel of the joined task; a cancel or a timeout of the joiner before and after the
# completion; an iter(handle) never iterated changes nothing (its item is left in the ring);
# nothing allocated. On CPython (no ring) the same outcomes through __next__.
from shimeji import Cancelled, StaticScheduler, Timeout, core, sleep_ms, timeout, yield_now
from shimeji.platform import emergency_buffer
from shimeji.task.slot import JoinHandle
from support import alloc_delta, heap_locked, micropython_only

RING = JoinHandle.__iter__ is not JoinHandle.__await__  # the join ring (sched/owntick.py)


async def _value(v):
    return v


async def _later(v):
    await yield_now()
    return v


async def _fails():
    raise ValueError("boom")


def _run(s, coro):
    h = s.spawn(coro)
    for _ in range(100):
        if h.is_complete():
            break
        s.tick()
    return h.result()


def test_a_value_none_and_an_error_reach_the_awaiting_task():
    s = StaticScheduler(4)

    async def driver():
        out = [await s.spawn(_value(5)), await s.spawn(_later(7)),
               await s.spawn(_value(None)), await s.spawn(_later(None))]
        try:
            await s.spawn(_fails())
        except ValueError as e:
            out.append(str(e))
        me = s.slots[0]
        out.append((me.wait_phase, me.wait_status, me.wait_value, me.waiting_on,
                    me.throw_exc))
        return out

    assert _run(s, driver()) == [5, 7, None, None, "boom", (0, 0, None, None, None)]


def test_the_joiner_parks_asleep_on_the_ring_and_a_stray_wake_leaves_it_parked():
    s = StaticScheduler(4)

    async def driver():
        return await s.spawn(_later(3))

    h = s.spawn(driver())
    s.tick(1)  # the driver spawns and parks
    me = s.slots[0]
    assert me.w[0] == core.ASLEEP and me.waiting_on is not None
    assert me.wait_phase == (3 if RING else 1)
    s.wake(me)  # ignored: only the completion or a cancel ends the join
    assert me.w[0] == core.ASLEEP
    for _ in range(10):
        s.tick()
    assert h.result() == 3


def test_a_cancel_of_the_joined_task_raises_cancelled_in_the_joiner():
    s = StaticScheduler(4)

    async def driver():
        h = s.spawn(_later(1))
        s.spawn(_cancels(h))
        try:
            await h
        except Cancelled:
            return "cancelled"
        return "joined"

    async def _cancels(h):
        h.cancel()

    assert _run(s, driver()) == "cancelled"


def _cancelled_joiner(ticks):
    s = StaticScheduler(4)
    log = []

    async def waiter():
        try:
            await s.spawn(_later(9) if ticks == 1 else _value(9))
        except Cancelled:
            log.append("cancelled")
            assert await s.spawn(_value(4)) == 4  # a later join works
            return "after"
        return "joined"

    h = s.spawn(waiter())
    for _ in range(ticks):
        s.tick(1)
    assert h.cancel()
    for _ in range(10):
        s.tick()
    return h.result(), log


def test_a_cancel_of_the_joiner_before_and_after_the_completion_raises_cancelled():
    # 1 tick: parked on its join; 2: the child ended (a value: the outcome waits in the
    # joiner's fields and its throw), the joiner queued, not yet polled
    for ticks in (1, 2):
        assert _cancelled_joiner(ticks) == ("after", ["cancelled"]), ticks


def test_a_timeout_around_a_join_expires_and_the_joined_task_runs_on():
    from shimeji import FakeClock, Timer

    clock = FakeClock()
    t = Timer(clock=clock, tick_us=1000)
    s = StaticScheduler(4, timer=t)
    log = []

    async def slow():
        await sleep_ms(20)
        log.append("child done")
        return 1

    async def joins(h):
        return await h  # (a plain await inside: the ring's join, where there is one)

    async def driver():
        h = s.spawn(slow())
        try:
            await timeout(joins(h), 5)
        except Timeout:
            log.append("timeout")
        return await h

    h = s.spawn(driver())
    for _ in range(200):
        if h.is_complete():
            break
        clock.advance(1000)
        t.turn()
        s.tick()
    assert h.result() == 1 and log == ["timeout", "child done"]


def test_an_iter_never_iterated_changes_nothing_for_any_task():
    s = StaticScheduler(6)

    async def driver():
        h = s.spawn(_later(1))
        iter(h)  # (what await calls first): its item stays in the ring, nothing is linked
        me = s.slots[0]
        linked = (me.wait_phase, me.waiting_on)
        out = [linked, await s.spawn(_value(None)), await s.spawn(_later(2)), await h]
        s.spawn(_other(out))
        out.append(await s.spawn(_later(3)))
        await yield_now()
        await yield_now()
        return out

    async def _other(out):
        out.append(await s.spawn(_later(4)))

    assert _run(s, driver()) == [(0, None), None, 2, 1, 3, 4]


def _loop(s, n, joined):
    async def loop():
        for i in range(n):
            if joined:
                await s.spawn(_MAKERS[i % 2]())
            else:  # the same tasks spawned, run and ended, nobody joining them
                s.spawn(_MAKERS[i % 2]())
                await yield_now()
                await yield_now()

    return loop()


async def _later_fails():
    await yield_now()
    raise _ERR


_ERR = ValueError("boom")
_MAKERS = (lambda: _later(None), lambda: _later(5), _later_fails)


@micropython_only
def test_a_join_of_the_ring_allocates_nothing():
    # Measured against the same tasks spawned and run to their end unjoined (each costs its
    # coroutine, its handle and a value's StopIteration; an error's raise at the await adds
    # to its traceback, as it always did), and with the heap locked: the joiner awaits tasks
    # spawned before the lock, each still running when it is awaited, an error too.
    s = StaticScheduler(6)
    for joined in (False, True):
        _run(s, _loop(s, 6, joined))  # warm up
    alone = alloc_delta(_run, s, _loop(s, 30, False))
    joined = alloc_delta(_run, s, _loop(s, 30, True))
    assert joined <= alone, (alone, joined)
    out = []

    async def joins(hs):
        for h in hs:
            try:
                out.append(await h)
            except ValueError:
                out.append("error")

    # The joined tasks end their polls with StopIteration(value), made here with the heap
    # locked: MicroPython's emergency exception, which keeps its argument only in a buffer
    # (the unix port's is static; rp2, stm32, esp32 and qemu allocate theirs at run time, as
    # a board module does at import). Without one the value arrived as None on the STM32
    # (make test-firmware BOARD=stm32, session 24): the task's own end, not the ring's.
    emergency_buffer()
    hs = [s.spawn(_slow(k, make())) for k, make in enumerate(_MAKERS)]
    d = s.spawn(joins(hs))
    heap_locked(_tick_to_end, s, d)
    assert d.is_complete() and out == [None, 5, "error"], out


async def _slow(k, coro):
    for _ in range(2 * k + 1):  # each ends while the joiner waits for it, not before
        await yield_now()
    return await coro


def _tick_to_end(s, h):
    for _ in range(50):
        if h.is_complete():
            return
        s.tick()
