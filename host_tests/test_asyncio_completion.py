# shimeji.asyncio: how a task's end is handled. A task that returned None is completed in
# line by the scheduler's tick; the main task's end still stops the tick at once (asyncio's
# run_until_complete), whatever the task ended with, and its slot goes back to the pool.
import gc

from mpyheap import needs_heap_beside_mpy_code

import shimeji.asyncio as asyncio
from support import heap_scaled

# On the RP2040's .mpy path the facade's and the scheduler's code fill most of the heap; the
# tests marked below (gather, wrapping ids, many runs) load more of it and need room for their
# tasks: each failed there with 29 KB free before it, and has not been seen to pass on that path
# (docs/boards.md, "RP2040, session 22"). The other marks give the free heap each test passed with.
_MPY_HEAP = 32 * 1024

# A task past the loop's 16 static slots costs a grown slot, its Task and its coroutine: about
# 1,000 B on a 32-bit board (as in test_asyncio_facade). 40 such tasks at once did not fit on
# an STM32L475 (MemoryError in TaskSlot.__init__, make test-firmware BOARD=stm32, 2026-12-06):
# the count is scaled to half the free heap there, never below 17, so the pool still grows.
_GROWN_TASK_BYTES = 1000


def _owners_ok(loop):
    # Every pool slot is owned by the loop's scheduler again and every free one is reusable.
    sched = loop.sched
    return [s for s in sched.slots if s.owner is not sched] == []


def _run_with_runnable_others(main_result):
    return _run_with_runnable_others_on(asyncio.new_event_loop(), main_result)


def _run_with_runnable_others_on(loop, main_result):
    log = []

    async def other(name):
        for i in range(3):
            log.append("%s%d" % (name, i))
            await asyncio.sleep(0)

    async def main():
        asyncio.create_task(other("a"))
        asyncio.create_task(other("b"))
        await asyncio.sleep(0)
        log.append("main")
        if main_result == "fail":
            raise ValueError("main")
        return main_result

    try:
        got = loop.run_until_complete(main())
    except ValueError as e:
        got = e.args
    after_first = list(log)
    # The tasks left runnable run on in the next run, from where they were stopped.
    async def later():
        await asyncio.sleep_ms(5)

    loop.run_until_complete(later())
    return got, after_first, log, loop


def test_a_main_task_returning_none_stops_the_run_at_once():
    got, first, log, loop = _run_with_runnable_others(None)
    assert got is None
    # a and b were runnable behind main: asyncio returns before they run again.
    assert first == ["a0", "b0", "main"]
    assert log == ["a0", "b0", "main", "a1", "b1", "a2", "b2"]
    assert _owners_ok(loop)


def test_a_main_task_returning_a_value_or_failing_stops_the_run_at_once():
    for result, expected in ((7, 7), ("fail", ("main",))):
        got, first, log, loop = _run_with_runnable_others(result)
        assert got == expected
        assert first == ["a0", "b0", "main"]
        assert log == ["a0", "b0", "main", "a1", "b1", "a2", "b2"]
        assert _owners_ok(loop)


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_many_runs_reuse_the_main_slot_and_returning_tasks_keep_task_state():
    asyncio.set_event_loop(None)  # the old loop and its grown slots go before the count is set
    gc.collect()
    loop = asyncio.new_event_loop()
    many = heap_scaled(40, _GROWN_TASK_BYTES, least=17)

    async def trivial(v):
        return v

    async def main(n):
        ts = [asyncio.create_task(trivial(None if i % 2 else i)) for i in range(n)]
        rs = await asyncio.gather(*ts)
        return rs, [t.done() for t in ts], [t.result() for t in ts]

    for n in (1, 5, many):
        rs, done, results = asyncio.run(main(n))
        expected = [None if i % 2 else i for i in range(n)]
        assert rs == expected
        assert done == [True] * n
        assert results == expected
        assert _owners_ok(loop)
        assert loop.sched.live_count() == 0


def test_a_run_ended_by_an_interrupt_gives_the_main_slot_back():
    loop = asyncio.new_event_loop()

    async def interrupter():
        raise SystemExit(3)

    async def main():
        asyncio.create_task(interrupter())
        await asyncio.sleep_ms(1000)

    try:
        loop.run_until_complete(main())
        got = None
    except SystemExit as e:
        got = e.args
    assert got == (3,)
    assert _owners_ok(loop)  # main never finished: its slot's owner was put back

    async def after():
        return "ran"

    assert asyncio.run(after()) == "ran"  # the loop still works



@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_gather_results_are_a_new_list_whatever_the_tasks_returned():
    # The gather reads each task's outcome as it scans; whether every task returned None,
    # some returned values (first, last, or after the gather waited), some were finished
    # before the gather, or awaitables had to be made tasks, the result is a fresh list.
    asyncio.new_event_loop()

    async def ret(v, ms=0):
        if ms:
            await asyncio.sleep_ms(ms)
        return v

    async def main():
        out = []
        for values in ([None] * 5, [1, None, None], [None, None, 3], [None, 2, None]):
            ts = [asyncio.create_task(ret(v)) for v in values]
            out.append(await asyncio.gather(*ts))
        done = [asyncio.create_task(ret(v)) for v in (None, 4)]
        await asyncio.sleep_ms(1)  # both finished before the gather starts
        out.append(await asyncio.gather(*done))
        out.append(await asyncio.gather(ret(5, 2), asyncio.create_task(ret(None)), ret(None)))
        ts = tuple(asyncio.create_task(ret(None, 1)) for _ in range(3))
        r = await asyncio.gather(*ts)
        out.append((r, type(r) is list, r is not ts))
        return out

    assert asyncio.run(main()) == [
        [None] * 5, [1, None, None], [None, None, 3], [None, 2, None], [None, 4],
        [5, None, None], ([None, None, None], True, True),
    ]


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_create_task_ids_that_wrap_skip_live_ids_and_keep_the_order():
    # create_task's in-line case, like spawn's, assumes ids that never wrapped: the task that
    # wraps them goes through the scheduler, and the next ones of the same poll skip live ids.
    mask = (1 << 30) - 1
    loop = asyncio.new_event_loop()
    log = []

    async def note(name):
        log.append(name)

    async def main():
        first = asyncio.create_task(note("old"))  # still live when the ids come round
        loop.sched._next_id = mask - 1
        ts = [asyncio.create_task(note(name)) for name in "abcd"]
        ids = [first._ref.id] + [t._ref.id for t in ts]
        await asyncio.gather(first, *ts)
        return ids

    ids = asyncio.run(main())
    assert ids[1:3] == [mask - 1, mask]
    assert len(set(ids)) == 5 and all(0 < i <= mask for i in ids)
    assert ids[0] not in ids[3:]  # the live task's id is skipped after the wrap
    assert log == ["old", "a", "b", "c", "d"]
    assert loop.sched.ids_wrapped


def test_a_cancelled_main_task_and_a_traced_loop_stop_the_run_and_give_the_slot_back():
    # The other ways a main task ends: cancelled by another task (a completion through
    # _complete_task, not in line), and returning None while a trace is attached (the traced
    # tick completes every task through _complete_task too).
    from shimeji import Trace

    loop = asyncio.new_event_loop()
    log = []

    async def canceller(t):
        t.cancel()
        log.append("cancelled main")

    async def main():
        asyncio.create_task(canceller(asyncio.current_task()))
        await asyncio.sleep_ms(50)
        log.append("main woke")  # never: cancelled while sleeping

    try:
        loop.run_until_complete(main())
        got = None
    except asyncio.CancelledError:
        got = "CancelledError"
    assert got == "CancelledError"
    assert log == ["cancelled main"]
    assert _owners_ok(loop)

    loop = asyncio.new_event_loop()
    trace = Trace(64)
    trace.attach(loop.sched)
    got, first, log2, loop = _run_with_runnable_others_on(loop, None)
    completes = [r for r in trace.records() if r[1] == 8]  # trace.kinds.COMPLETE
    assert len(completes) == 4  # main, a, b and the later run's main: recorded, so traced
    assert got is None
    assert first == ["a0", "b0", "main"]
    assert log2 == ["a0", "b0", "main", "a1", "b1", "a2", "b2"]
    assert _owners_ok(loop)
