"""Per-core context (issue 14): a task on an executor's worker finds its own task everywhere
(``current_task()``, ``yield_now()``, sleeps, timeouts, Mutex and RwLock owners, a trace's
record) while another thread runs tasks too: a plain ``RunLoop`` on the main thread in the
middle of a poll (the layout docs/executor.md recommends), a second executor's worker, a
``ThreadBackground``'s loop thread, or a main loop that idles. Until session 19 the primitives
read the interpreter's context first, which held the main loop's task: a worker's
``sleep_ms(5)`` ended after 15-34 us and ``current_task()`` was the main loop's task."""

from contexthelp import failures, spawn_probes, spin_until
from mpyheap import needs_heap_beside_mpy_code

from levelhelp import settle, waiter
from shimeji import (
    Executor,
    InterruptScheduler,
    RunLoop,
    StaticScheduler,
    Timer,
    Trace,
    WaitCell,
    core,
    current_task,
    port,
    preempt_point,
    sleep_ms,
    spawn,
)
from shimeji.platform.bsp import BoardBase
from shimeji.policy.rr import DEFAULT_SLICE_US
from shimeji.sched.background import ThreadBackground
from support import Bound, nap, needs_extra_threads, needs_thread_module, wait_until


def _stop(*executors):
    for ex in executors:
        ex.close()
    for ex in executors:
        ex.join()


def _beside_a_main_loop(workers, mid_poll):
    # Probes on every worker of an executor whose workers run on threads, while the main
    # thread's RunLoop polls a task that either lasts (mid-poll: the interpreter's context
    # holds its task all along) or sleeps 1 ms at a time (the loop idles between polls).
    ex = Executor(workers=workers + 1, capacity=8)  # (worker 0 is left unrun: start())
    traces = [Trace(256).attach(w) for w in ex.workers[1:]]
    go = [False]
    probes = spawn_probes(ex.workers[1:], go, traces)
    main = {}

    async def polled():
        me = current_task()
        go[0] = True
        if mid_poll:
            spin_until(probes)
        else:
            bound = Bound(30)
            while not all(p.done for p in probes) and not bound.passed():
                await sleep_ms(1)
        main["own"] = current_task() is me
        main["untouched"] = core.current_slot().fsleep is None  # (no asyncio sleep bound here)
        t0 = port.ticks_us()
        await sleep_ms(3)  # the main loop's own sleep, while the workers are registered
        main["slept"] = port.ticks_diff(port.ticks_us(), t0)
        main["own after"] = current_task() is me

    ex.start()
    try:
        s = StaticScheduler(4, timer=Timer())
        RunLoop(s).run(s.spawn(polled()))
    finally:
        _stop(ex)
    assert failures(probes) == [], failures(probes)
    assert main["own"] and main["own after"] and main["slept"] >= 3000, main
    assert main["untouched"], main
    assert not ex.errors, ex.errors
    assert not core._threads and not core.threads_checked[0]  # all undone after join()


@needs_extra_threads(1)  # (the RP2040: the one worker on core 1)
def test_a_worker_finds_its_own_task_while_the_main_loop_is_mid_poll():
    _beside_a_main_loop(1, True)


@needs_extra_threads(2)
def test_two_workers_find_their_own_tasks_while_the_main_loop_is_mid_poll():
    _beside_a_main_loop(2, True)


@needs_extra_threads(2)
def test_two_workers_find_their_own_tasks_while_the_main_loop_idles():
    _beside_a_main_loop(2, False)


@needs_extra_threads(2)
def test_a_worker_finds_its_own_task_beside_another_executors_worker_mid_poll():
    ex = Executor(workers=2, capacity=8)  # (worker 0 of each is left unrun: start())
    other = Executor(workers=2, capacity=4)
    go = [False]
    probes = spawn_probes(ex.workers[1:], go, [Trace(256).attach(ex.workers[1])])
    spun = {}

    async def spinner():  # a poll that lasts on the other executor's worker
        me = current_task()
        go[0] = True
        spin_until(probes)
        spun["own"] = current_task() is me

    h = other.workers[1].spawn(spinner())
    other.start()
    ex.start()
    try:
        wait_until(lambda: all(p.done for p in probes) and h.is_complete(), "the probes")
    finally:
        _stop(ex, other)
    assert failures(probes) == [], failures(probes)
    assert spun == {"own": True}
    assert not ex.errors and not other.errors


class _Board(BoardBase):
    NAME = "fake"

    def idle(self, us):
        nap()


@needs_extra_threads(2)
def test_a_worker_finds_its_own_task_while_a_background_loop_thread_is_mid_poll():
    ex = Executor(workers=2, capacity=8)  # (worker 0 is left unrun: start())
    go = [False]
    probes = spawn_probes(ex.workers[1:], go, [Trace(256).attach(ex.workers[1])])
    sched = StaticScheduler(4, timer=Timer())
    bg = ThreadBackground(_Board(), RunLoop(sched, max_idle_us=200))
    spun = {}

    async def spinner():  # a poll that lasts on the background's loop thread
        me = current_task()
        go[0] = True
        spin_until(probes)
        spun["own"] = current_task() is me
        t0 = port.ticks_us()
        await sleep_ms(3)
        spun["slept"] = port.ticks_diff(port.ticks_us(), t0)

    bg.start()
    try:
        h = bg.spawn(spinner())
        ex.start()
        wait_until(lambda: all(p.done for p in probes) and h.is_complete(), "the probes")
    finally:
        try:
            _stop(ex)
        finally:
            bg.stop()
    assert failures(probes) == [], failures(probes)
    assert spun["own"] and spun["slept"] >= 3000, spun
    assert not ex.errors
    assert not core.threads_checked[0]


@needs_thread_module
@needs_heap_beside_mpy_code(32 * 1024)  # the RP2040's .mpy path: this module's imports leave
def test_an_interrupt_level_on_a_workers_thread_finds_its_own_task():  # 4 KB (session 22)
    # Executor.run gives worker 0 the main thread, where the interrupt level's callback runs
    # (in the middle of worker 0's poll): the level's task finds itself, not worker 0's task.
    isr = InterruptScheduler(2)
    cell = WaitCell()
    log = []
    h = isr.spawn(waiter(cell, log, "urgent"), "urgent")
    settle()
    ex = Executor(workers=1, capacity=4)

    async def main():
        me = current_task()
        cell.wake()  # the level runs at the next check point: in this poll
        bound = Bound(30)
        while not log and not bound.passed():
            settle()
        log.append(current_task() is me)

    try:
        ex.run(main())
    finally:
        isr.close()
    assert log == [("urgent", "urgent"), True] and h.is_complete(), log


@needs_extra_threads(1)
def test_preempt_point_on_a_round_robin_worker_asks_its_policy_while_the_main_loop_is_mid_poll():
    # The worker's task spins past its slice with another task ready: preempt_point() asks
    # the worker's own policy (round-robin: yield), not the main loop's (FIFO: never).
    ex = Executor(workers=2, capacity=8, policy="rr")  # (worker 0 is left unrun: start())
    go = [False]
    log = []

    async def other():
        log.append("other")

    async def spinner():
        while not go[0]:
            await sleep_ms(1)
        h = spawn(other())  # on this worker: ready while this task spins
        t0 = port.ticks_us()
        while port.ticks_diff(port.ticks_us(), t0) < 3 * DEFAULT_SLICE_US:
            pass
        log.append("spun")
        await preempt_point()
        log.append("after")
        await h

    h = ex.workers[1].spawn(spinner())

    async def polled():
        go[0] = True
        bound = Bound(30)
        while not h.is_complete() and not bound.passed():
            nap()

    ex.start()
    try:
        s = StaticScheduler(4, timer=Timer())
        RunLoop(s).run(s.spawn(polled()))
        h.result()
    finally:
        _stop(ex)
    assert log == ["spun", "other", "after"], log
