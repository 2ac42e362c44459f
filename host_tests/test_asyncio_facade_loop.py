# shimeji.asyncio's event loop (both runtimes): new_event_loop() resets an idle loop and
# replaces a busy one, a dropped loop forgets its gathers and closes its pending reports,
# an unretrieved exception reaches the handler once, run_forever()/stop() and grown slots.
import gc
import sys

import shimeji.asyncio as asyncio
from facadehelp import fresh_loop, grown_tasks
from shimeji.asyncio.loop import Loop


def test_a_gather_left_waiting_by_a_dropped_loop_is_forgotten():
    # new_event_loop() drops the old loop's tasks; a gather that was waiting there must not
    # make the tasks it named unawaitable ("can't wait") or stay referenced forever.
    from shimeji.asyncio.task import _gathers

    loop = fresh_loop()
    held = []

    async def forever():
        await asyncio.sleep(10)

    async def gatherer(ts):
        await asyncio.gather(*ts)

    async def main():
        ts = [asyncio.create_task(forever()) for _ in range(2)]
        held.extend(ts)
        asyncio.create_task(gatherer(ts))
        await asyncio.sleep_ms(2)
        return len(_gathers)

    assert loop.run_until_complete(main()) == 1
    fresh_loop()
    assert len(_gathers) == 0

    async def quick():
        return "ok"

    async def main2():
        return await asyncio.gather(quick(), quick())

    assert asyncio.run(main2()) == ["ok", "ok"]


def test_new_event_loop_resets_an_idle_loop_and_replaces_a_busy_one():
    # An idle loop is reset and returned (its grown slots are kept: no slot is made again);
    # a loop with a live task is replaced, and that task never runs again.
    loop = fresh_loop()
    log = []
    n = grown_tasks(30)

    async def child(i):
        return i

    async def main():
        return await asyncio.gather(*[asyncio.create_task(child(i)) for i in range(n)])

    assert asyncio.run(main()) == list(range(n))
    grown = loop.grown
    assert grown >= n + 1 - 16
    again = asyncio.new_event_loop()
    assert again is loop and asyncio.get_event_loop() is loop
    assert asyncio.run(main()) == list(range(n))
    assert loop.grown == grown  # the slots were reused, none made

    async def stuck():
        log.append("stuck ran")
        await asyncio.sleep(10)
        log.append("stuck resumed")

    async def starter():
        asyncio.create_task(stuck())
        await asyncio.sleep_ms(1)

    # The busy loop is a small one (4 slots) put in place of the idle one, which is dropped:
    # two of the facade's 16-slot loops at once (~13 KB each on 32-bit) do not fit next to
    # this module's tests on an STM32L475's heap (~87 KB).
    del loop, again
    busy = Loop(4)
    asyncio.set_event_loop(busy)
    asyncio.run(starter())
    assert busy.sched.live_count() == 1  # stuck() is still waiting: the loop is busy
    fresh = asyncio.new_event_loop()
    assert fresh is not busy and fresh.grown == 0

    async def short():
        await asyncio.sleep_ms(2)
        return "short"

    assert asyncio.run(short()) == "short"
    assert log == ["stuck ran"]


def test_unretrieved_exception_goes_to_the_handler_once():
    loop = fresh_loop()
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(repr(ctx["exception"])))

    async def boom():
        raise ValueError(7)

    async def main():
        asyncio.create_task(boom())
        for _ in range(3):
            await asyncio.sleep(0)
        t = asyncio.create_task(boom())
        await asyncio.sleep(0)
        try:
            await t
        except ValueError:
            seen.append("awaited")

    try:
        asyncio.run(main())
    finally:
        loop.set_exception_handler(None)
    assert seen == [repr(ValueError(7)), "awaited"]


def test_a_report_left_pending_by_a_dropped_loop_is_closed_not_leaked():
    # The run ends before the round of a failed task's report (the task was awaited in the
    # same round): the report's coroutine, spawned and never started, used to stay queued in
    # the loop, and CPython warned "coroutine '_report' was never awaited" when the next test
    # dropped the loop. Dropping (or closing) a loop now closes it.
    loop = fresh_loop()
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(ctx["message"]))

    async def boom():
        raise ValueError(7)

    async def main():
        t = asyncio.create_task(boom())
        await asyncio.sleep(0)
        try:
            await t
        except ValueError:
            seen.append("awaited")

    asyncio.run(main())
    assert seen == ["awaited"] and len(loop._reports) == 1  # its round never came
    (coro,) = loop._reports.values()
    unraisable = []
    hook = getattr(sys, "unraisablehook", None)  # (CPython: where the warning went)
    if hook is not None:
        sys.unraisablehook = unraisable.append
    try:
        asyncio.set_event_loop(None)
        assert loop._reports == {}
        if hasattr(coro, "cr_frame"):  # CPython: closed, so never "never awaited"
            assert coro.cr_frame is None
        del coro
        gc.collect()
    finally:
        if hook is not None:
            sys.unraisablehook = hook
    assert unraisable == [] and seen == ["awaited"]  # the failure was retrieved: no report
    loop2 = fresh_loop()
    loop2.close()  # close() forgets them too (none here)
    assert loop2._reports == {}


def test_loop_run_forever_stop_and_grown_slots():
    loop = fresh_loop()
    log = []
    failed = []
    n = grown_tasks(40)

    def stop_on_failure(loop, context):  # a failed main would leave run_forever waiting
        failed.append(context["exception"])
        loop.stop()

    async def child(i):
        await asyncio.sleep_ms(1)
        log.append(i)

    async def main():
        for i in range(n):  # more than the 16 static slots: the pool grows
            loop.create_task(child(i))
        for _ in range(1000):  # until every child ran (a slow emulator may take a while)
            await asyncio.sleep_ms(2)
            if len(log) == n:
                break
        loop.stop()

    loop.set_exception_handler(stop_on_failure)
    try:
        loop.create_task(main())
        loop.run_forever()
    finally:
        loop.set_exception_handler(None)
    assert failed == []
    assert sorted(log) == list(range(n))
    assert loop.grown >= n + 2 - 16  # main, the stop task and n children at once
