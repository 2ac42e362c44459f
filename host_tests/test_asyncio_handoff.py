# Awaitables made by one task and awaited by another, as asyncio programs hand them around:
# sleep_ms/sleep, Lock.acquire(), Semaphore.acquire(), Event.wait() made in task A and awaited
# in task B, given to create_task, gather and wait_for. In MicroPython's and CPython's asyncio
# the awaitable is bound to the task that awaits it; the facade's were bound to the caller
# (sleep_ms armed the caller's timer: awaited elsewhere it ended at once and woke the caller
# later; a Semaphore kept n on the caller). Sleeps count from the call (MicroPython's rule);
# the tests check they never end early (a lower bound holds on a loaded machine) and that the
# caller's timer is no longer armed for them.
import gc

import shimeji.asyncio as asyncio
from shimeji import port
from support import micropython_only

if port.IS_MICROPYTHON:
    from time import ticks_diff, ticks_ms
else:
    import time

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _since(t0):
    return ticks_diff(ticks_ms(), t0)


def _my_entry_armed():
    return asyncio.current_task()._ref.timer.pos >= 0


def test_a_sleep_made_in_one_task_is_slept_by_the_task_that_awaits_it():
    _fresh()

    async def main():
        out = []
        for make, ms in ((lambda: asyncio.sleep_ms(40), 40), (lambda: asyncio.sleep(0.04), 40)):
            t0 = ticks_ms()
            aw = make()

            async def other(aw, t0):
                await aw
                return _since(t0)

            t = asyncio.create_task(other(aw, t0))
            await asyncio.sleep(0)  # the other task binds the sleep
            out.append(_my_entry_armed())  # not the caller's any more: no wake for it
            out.append(await t >= ms)
            t0 = ticks_ms()
            await asyncio.sleep_ms(20)  # the caller's own sleeps still work
            out.append(_since(t0) >= 20)
        return out

    assert asyncio.run(main()) == [False, True, True] * 2


def test_create_task_gather_and_wait_for_take_sleeps():
    _fresh()

    async def main():
        out = []
        t0 = ticks_ms()
        await asyncio.create_task(asyncio.sleep_ms(30))
        out.append(_since(t0) >= 30)
        t0 = ticks_ms()
        out.append(await asyncio.gather(asyncio.sleep_ms(20), asyncio.sleep(0.04), _answer()))
        out.append(_since(t0) >= 40)
        t0 = ticks_ms()
        out.append(await asyncio.wait_for(asyncio.sleep_ms(30), 5))
        out.append(await asyncio.wait_for_ms(asyncio.sleep_ms(10), 5000))
        out.append(_since(t0) >= 40)
        try:
            await asyncio.wait_for(asyncio.sleep_ms(5000), 0.02)
        except asyncio.TimeoutError:
            out.append("timeout")
        t0 = ticks_ms()
        await asyncio.sleep_ms(20)  # the cancelled sleep left the caller's timer alone
        out.append(_since(t0) >= 20)
        return out

    assert asyncio.run(main()) == [True, [None, None, 42], True, None, None, True, "timeout",
                                   True]


async def _answer():
    return 42


def test_a_sleep_made_in_another_task_given_to_wait_for():
    _fresh()

    async def main():
        box = []

        async def maker():
            box.append(asyncio.sleep_ms(40))

        t0 = ticks_ms()
        await asyncio.create_task(maker())  # made there, that task has ended since
        r = await asyncio.wait_for(box[0], 5)
        return r, _since(t0) >= 40

    assert asyncio.run(main()) == (None, True)


def test_several_sleeps_made_before_any_is_awaited():
    # MicroPython's asyncio asserts here (one sleep_ms at a time); CPython's sleeps both.
    _fresh()

    async def main():
        t0 = ticks_ms()
        long = asyncio.sleep_ms(60)
        short = asyncio.sleep_ms(20)
        await short
        a = _since(t0) >= 20
        await long
        return a, _since(t0) >= 60, _my_entry_armed()

    assert asyncio.run(main()) == (True, True, False)


def test_a_sleep_awaited_late_by_its_caller_counts_from_the_call():
    _fresh()

    async def main():
        ev = asyncio.Event()

        async def setter():
            await asyncio.sleep_ms(30)
            ev.set()

        t0 = ticks_ms()
        aw = asyncio.sleep_ms(10)
        asyncio.create_task(setter())
        await ev.wait()  # the sleep's deadline passes meanwhile
        mid = _since(t0) >= 30
        await aw  # ends at once (its deadline is past), does not sleep 10 ms more
        return mid, _my_entry_armed()

    assert asyncio.run(main()) == (True, False)


def test_a_task_sleeping_on_a_handed_sleep_can_be_cancelled():
    _fresh()

    async def main():
        aw = asyncio.sleep_ms(5000)

        async def other():
            await aw

        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            pass
        t0 = ticks_ms()
        await asyncio.sleep_ms(10)
        return t.cancelled(), _since(t0) >= 10

    assert asyncio.run(main()) == (True, True)


def test_lock_semaphore_and_event_awaitables_made_in_another_task():
    _fresh()

    async def main():
        out = []
        lock = asyncio.Lock()
        sem = asyncio.Semaphore(2)
        ev = asyncio.Event()
        acq, sacq, sacq2, wait = lock.acquire(), sem.acquire(), sem.acquire(2), ev.wait()

        async def other():
            r = [await acq, lock.locked(), await sacq, sem._permits]
            lock.release()
            sem.release()
            r.append(await sacq2)
            r.append(sem._permits)
            sem.release(2)
            r.append(await wait)
            return r

        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        ev.set()
        out.append(await t)
        await lock.acquire()
        out.append(lock.locked())
        aw = lock.acquire()

        async def releaser():
            await asyncio.sleep_ms(5)
            lock.release()

        asyncio.create_task(releaser())
        out.append(await asyncio.wait_for(aw, 5))  # made here before the lock was free
        lock.release()
        out.append(await asyncio.wait_for(sem.acquire(2), 5))
        return out

    assert asyncio.run(main()) == [[True, True, True, 1, True, 0, True], True, True, True]


def test_shimeji_own_sleeps_handed_to_create_task_wait_for_and_gather():
    # shimeji.sleep_ms arms the calling task (the core's rule): handed to the facade's
    # create_task/wait_for/gather it moves to the task they make (it used to end at once there,
    # the caller being woken later). shimeji.yield_now() handed on still just yields.
    import shimeji

    _fresh()

    async def main():
        out = []
        t0 = ticks_ms()
        await asyncio.create_task(shimeji.sleep_ms(30))
        out.append(_since(t0) >= 30)
        t0 = ticks_ms()
        out.append(await asyncio.wait_for(shimeji.sleep_ms(30), 5))
        out.append(await asyncio.gather(shimeji.sleep_ms(20), shimeji.yield_now()))
        out.append(_since(t0) >= 50)
        try:
            await asyncio.wait_for(shimeji.sleep_ms(5000), 0.01)
        except asyncio.TimeoutError:
            out.append("timeout")
        out.append(_my_entry_armed())
        out.append(await asyncio.wait_for(shimeji.yield_now(), 1))
        return out

    assert asyncio.run(main()) == [True, None, [None, None], True, "timeout", False, None]


@micropython_only
def test_the_usual_sleep_and_a_slot_after_a_handoff_allocate_nothing():
    _fresh()
    deltas = []

    async def main():
        await asyncio.create_task(asyncio.sleep_ms(1))  # this task's sleep handed off once
        for _ in range(2):  # warm-up (the slot's fresh SleepMs is made by the first)
            await asyncio.sleep_ms(1)
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()
            for _ in range(50):
                await asyncio.sleep_ms(1)
            deltas.append(gc.mem_alloc() - before)
        finally:
            gc.enable()

    asyncio.run(main())
    assert deltas == [0]
