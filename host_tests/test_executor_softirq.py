"""Spawns from a soft-interrupt callback (``micropython.schedule``) that runs on a worker's
thread.

On MicroPython's unix port without a GIL, scheduled callbacks run on the main thread only, at
the VM's next check point (a branch; with a GIL, on whichever thread reaches one first): with
``Executor.run(main)`` that is worker 0's thread, in the middle of whatever it does (a task's
poll, its loop, a critical section). A board's pin or timer callback lands the same way on core
0, where worker 0 runs. Each spawn must land
exactly once; a spawn made while the thread holds the executor's critical section is refused
with ``WrongLevel`` (it would change queues the interrupted code was changing), and the
callback retries by scheduling itself again."""

import sys
import time  # once: an import in a thread is a lookup over a board's mount

from schedqueue import flush_schedule_queue
from shimeji import Event, Executor, WrongLevel, yield_now
from shimeji.port import GIL  # a build with a GIL runs callbacks on any thread
from support import (
    EXECUTOR_SLOT_BYTES,
    Bound,
    heap_scaled,
    needs_extra_threads,
    needs_threads,
    raises,
)

IS_MICROPYTHON = sys.implementation.name == "micropython"


def micropython_schedule(fn):
    """The test needs MicroPython's own ``micropython.schedule`` (CPython's stand-in in
    ``shimeji.port`` runs a callback between polls, never inside a worker's section)."""
    if IS_MICROPYTHON:
        return fn
    import pytest

    return pytest.mark.skip(reason="needs MicroPython's micropython.schedule (callbacks on "
                                   "the main thread, at the VM's check points)")(fn)


CALLBACKS = 300


@needs_extra_threads(2)  # worker 1 and the thread that schedules the callbacks
@micropython_schedule
def test_spawns_from_scheduled_callbacks_on_worker_0s_thread_each_run_once():
    import _thread

    import micropython

    # 300 callbacks, or as many as half the free heap holds slots for (the ESP32-C3 ran out
    # making 2 x 340 slots): each needs a slot of its own on either worker
    calls = heap_scaled(CALLBACKS, 2 * EXECUTOR_SLOT_BYTES, least=40)
    ex = Executor(workers=2, capacity=calls + 40)
    runs = [0] * calls  # how often each spawned task ran its body
    handles = [None] * calls
    threads_seen = []  # the thread every callback ran on
    errors = []
    fired = [0]  # callbacks whose spawn landed
    refused = [0]  # callbacks that found the section held, and scheduled themselves again
    later = []  # refused when the schedule queue was full: spawned by main at the end
    done = [False]
    ping = Event()
    bound = Bound(120)  # a callback lost for good fails the test instead of hanging it

    async def child(i):
        runs[i] += 1
        await yield_now()  # stealable: it may finish on the other worker
        return i * 3

    def callback(i):  # the soft interrupt: runs on the main thread (worker 0's)
        threads_seen.append(_thread.get_ident())
        try:
            handles[i] = ex.spawn(child(i))
        except WrongLevel:  # it interrupted the section: again, once the section has ended
            refused[0] += 1
            try:
                micropython.schedule(callback, i)
            except RuntimeError:  # the queue is full: main spawns it at the end
                later.append(i)
            return
        except Exception as e:  # recorded: the assertion below names it
            errors.append((i, repr(e)))
        fired[0] += 1

    def interrupter():  # plays the hardware: schedules the callbacks, paced
        i = 0
        while i < calls and not bound.passed():
            try:
                micropython.schedule(callback, i)
                i += 1
            except RuntimeError:  # the queue (8 entries) is full: try again shortly
                time.sleep_ms(1)
            if i % 7 == 0:
                time.sleep_ms(1)
        done[0] = i == calls

    async def busy(k):  # keeps both workers polling, completing, waking across workers
        n = 0
        while not done[0] or fired[0] + len(later) + len(errors) < calls:
            if bound.passed():  # (the assertions after the run say what was missing)
                break
            n += 1
            if k == 0 and n % 5 == 0:
                ping.set()
            elif k == 1:
                await ping.wait()  # often set from the other worker: a cross-worker wake
                ping.clear()
            await yield_now()
        ping.set()
        return n

    async def main():
        hs = [ex.spawn(busy(k)) for k in range(8)]
        _thread.start_new_thread(interrupter, ())
        for h in hs:
            await h
        failed = [i for i, _ in errors]
        lost = [i for i in range(calls)
                if handles[i] is None and i not in later and i not in failed]
        assert done[0] and not lost, "in 120 s: thread finished %s, spawns missing %s; %s" % (
            done[0], lost[:10], errors[:3])
        for i in later:
            handles[i] = ex.spawn(child(i))
        out = []
        for h in handles:
            out.append(await h)
        return out

    main_thread = _thread.get_ident()
    results = ex.run(main())
    assert errors == []
    assert fired[0] + len(later) == calls
    assert results == [i * 3 for i in range(calls)]
    assert runs == [1] * calls  # every spawn ran once: none lost, none twice
    # every callback ran once per attempt: a refused one that could not be scheduled again
    # (the queue was full) is in `later` and not called a second time
    assert len(threads_seen) == fired[0] + refused[0]
    # all on worker 0's thread; with a GIL on whichever reaches a branch first (py/scheduler.c)
    assert GIL or set(threads_seen) == {main_thread}
    flush_schedule_queue()  # the queue's slots keep `callback`, and through it `ex`
    # worker 1 is not required to have polled: on a loaded machine its thread may get no core
    # before worker 0 has run everything, and that is allowed (nothing is lost either way)
    assert ex.workers[0].stats()["polled"] > 0
    assert sum(w.stats()["polled"] for w in ex.workers) >= 2 * calls + 8


async def _value(v):
    await yield_now()
    return v


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_spawn_inside_the_critical_section_is_refused_and_nothing_is_lost():
    # What a callback that interrupts a section meets, made to happen on purpose: the
    # section entered on worker 0's thread (in its task) and outside every worker.
    ex = Executor(workers=2, capacity=8)
    cs = ex.critical_section
    seen = []

    async def main():
        state = cs.enter()
        try:
            for spawn in (ex.spawn, ex.spawn_detached, ex.workers[0].spawn,
                          ex.workers[1].spawn):
                coro = _value(1)
                with raises(WrongLevel, "critical section"):
                    spawn(coro)
                coro.close()  # refused: the coroutine stays the caller's
        finally:
            cs.exit(state)
        seen.append(await ex.spawn(_value(2)))  # and afterwards spawns work as before
        ex.spawn_detached(_value(3))
        return await ex.workers[1].spawn(_value(4))

    state = cs.enter()
    coro = _value(0)
    with raises(WrongLevel, "micropython.schedule"):
        ex.spawn(coro)  # outside every worker: would go to the injector
    coro.close()
    cs.exit(state)
    assert ex.run(main()) == 4
    assert seen == [2]
    assert sum(w.stats()["polled"] for w in ex.workers) >= 4


@needs_extra_threads(2)  # worker 1 and the thread that schedules the callbacks
@micropython_schedule
def test_a_callback_wakes_a_task_on_worker_0_while_it_idles():
    # Worker 0 runs on the main thread, where callbacks run; with nothing to do it sleeps.
    # Blocked on its bell it would run no callback until something else rang it: it idles in
    # 1 ms slices instead, during which MicroPython runs them.
    import _thread

    import micropython

    ex = Executor(workers=2, capacity=8)
    ev = Event()
    ran = []  # (thread, ms after it was scheduled)
    scheduled = [0]

    def callback(_):
        ran.append((_thread.get_ident(), time.ticks_diff(time.ticks_ms(), scheduled[0])))
        ev.set()

    def interrupter():
        # Until worker 0 sleeps (its only task waits for the event): 50 ms were not always
        # enough on the ESP32-C3 in qemu, whose first run of a module imports over the mount
        for _ in range(500):
            if ex.workers[0].slept:
                break
            time.sleep_ms(10)
        scheduled[0] = time.ticks_ms()
        micropython.schedule(callback, None)
        for _ in range(300):  # a watchdog: a callback that never runs fails the test
            if ran:
                return
            time.sleep_ms(10)
        ex.close()

    async def main():
        _thread.start_new_thread(interrupter, ())
        await ev.wait()
        return "woken"

    assert ex.run(main()) == "woken"
    assert len(ran) == 1  # once; without a GIL on worker 0's thread, the main one
    assert GIL or ran[0][0] == _thread.get_ident()
    assert ex.workers[0].stats()["slept"] >= 1  # it had gone to sleep before the callback


@needs_threads  # Executor needs _thread (the qemu port has none)
def test_worker_0s_slices_start_short_and_double_up_to_a_millisecond():
    # A steal's answer comes at the victim's next tick boundary (tens of µs): the thread that
    # runs callbacks waited for it in whole 1 ms slices (seen at the end of the executor
    # bench: ~1.1 ms for every answer to worker 0). Its slices now start at 25 µs and double.
    from shimeji.executor import idle

    ex = Executor(workers=2, capacity=4)
    w = ex.workers[0]
    slices = []

    def fake_sleep(us):
        slices.append(us)
        if len(slices) == 9:
            w.ring()  # what a steal's answer or a sharing worker does

    state = w._enter()
    w.sleeping = True  # as _sleep leaves it before the slices
    ex.sleepers += 1
    w._exit(state)
    real = idle.sleep_idle
    idle.sleep_idle = fake_sleep
    try:
        w._sleep_in_slices()
    finally:
        idle.sleep_idle = real
    assert slices == [25, 50, 100, 200, 400, 800, 1000, 1000, 1000]
    assert not w.sleeping and ex.sleepers == 0 and w.woken_cross == 1
    assert not w._bell.acquire(0)  # taken by the slice that saw the ring: held again
    ex.close()
    ex.join()
