# Misuse of the multi-core Executor, table-driven: each wrong call raises a ShimejiError
# subclass whose message names the argument or the state and what to do, starts and closes
# nothing it should not, and the same executor (or a new one, once closed) still runs tasks:
# nothing spawned is lost.
from shimeji import (
    BadArgument,
    BadDuration,
    Executor,
    ExecutorClosed,
    InvalidCapacity,
    NotACoroutine,
    PolicyError,
    RunLoop,
    SchedulerBusy,
    ShimejiError,
    StaticScheduler,
    Timeout,
    TimerConfigError,
    port,
    yield_now,
)
from support import Bound, nap, needs_thread_module, needs_threads, raises, wait_until


async def _value(x):
    await yield_now()
    return x


@needs_thread_module  # an Executor is built on _thread (one thread is enough here)
def test_constructor_arguments_are_checked_first():
    cases = (({"workers": 0}, BadArgument, "workers=0: give an int from 1"),
             ({"workers": True}, BadArgument, "workers=True"),
             ({"workers": 2 ** 30}, BadArgument, "workers=1073741824"),
             ({"capacity": 0}, InvalidCapacity, "capacity must be a positive int"),
             ({"capacity": 2.5}, InvalidCapacity, "got 2.5"),
             ({"capacity": 2 ** 30}, InvalidCapacity, "at most 65536"),  # (was: a stall)
             ({"tick_us": 0}, TimerConfigError, "tick_us must be a positive int"),
             ({"tick_us": 1.5}, TimerConfigError, "tick_us"),
             ({"policy": None}, PolicyError, "'fifo' or 'rr'"),
             ({"critical_section": 5}, BadArgument, "critical_section=5"))
    for kw, exc, words in cases:
        with raises(exc, words) as r:
            Executor(**kw)
        assert isinstance(r.value, ShimejiError)
    assert Executor(workers=1, capacity=2).run(_value(3)) == 3


def _misuse_then_run(workers):
    ex = Executor(workers=workers, capacity=4)
    for main in ("main", 5, _value):
        with raises(NotACoroutine, "run(main): main must be a coroutine") as r:
            ex.run(main)
        assert "nothing was started" in str(r.value)
    for index in (workers, -1, "0", None):
        with raises(BadArgument, "run_worker(index=") as r:
            ex.run_worker(index)
        assert "from 0 to %d" % (workers - 1) in str(r.value)
    with raises(SchedulerBusy, "join() before close(): ") as r:
        ex.join()
    assert "call close() first" in str(r.value)
    for bad in (None, 5, _value):
        with raises(NotACoroutine, "spawn() takes a coroutine object"):
            ex.spawn(bad)
        with raises(NotACoroutine, "coroutine"):
            ex.spawn_detached(bad)
    h = ex.spawn(_value("queued before run"))  # injected: kept while the misuse is refused
    assert not ex.closed and sum(w.live_count() for w in ex.workers) == 1  # just h

    async def main():
        return (await h), (await ex.spawn(_value(2)))

    assert ex.run(main()) == ("queued before run", 2)


@needs_thread_module  # one worker: run() starts no thread (a board with one core runs it)
def test_bad_main_index_or_order_starts_and_closes_nothing():
    _misuse_then_run(1)


@needs_threads  # run() starts worker 1 on a thread of its own
def test_bad_main_index_or_order_on_two_workers_starts_and_closes_nothing():
    _misuse_then_run(2)


@needs_threads  # worker 1 runs on a thread of its own
def test_running_again_from_inside_or_after_close():
    ex = Executor(workers=2, capacity=4)
    refused = []

    async def main():
        for call in (lambda: ex.run(_value(0)), lambda: ex.run_worker(0), ex.start, ex.join):
            with raises(SchedulerBusy) as r:
                call()
            refused.append(str(r.value)[:30])
        h = ex.spawn(_value(5))  # the executor still runs: nothing was started twice or closed
        return await h

    assert ex.run(main()) == 5
    assert refused == ["run(): this Executor runs alre", "worker 0 runs already (on thre",
                       "start(): this Executor runs al", "join() from a task of this Exe"]
    assert ex.errors == []  # no worker thread raised
    ex.close()  # a second close is a no-op
    ex.join()
    for call in (ex.spawn, ex.run):
        c = _value(1)
        with raises(ExecutorClosed, "make a new Executor"):
            call(c)
        c.close()  # refused, so still the caller's
    assert Executor(workers=2, capacity=4).run(_value(6)) == 6


@needs_threads  # worker 1 runs the spinning task on a thread of its own
def test_join_with_a_timeout_names_the_worker_a_task_that_never_yields_holds():
    ex = Executor(workers=2, capacity=4)
    for bad in (-1, 1.5, True, "50", 2 ** 29):
        with raises(BadDuration, "join(timeout_ms=%r): give an int of ms" % (bad,)):
            ex.join(timeout_ms=bad)
    release = [False]
    events = []

    async def spin():
        events.append("spinning")
        bound = Bound(20)
        while not release[0] and not bound.passed():
            # never yields to its worker: worker 1 cannot see close() until released. With a
            # GIL it naps (a wait, not a yield): a spin keeps the GIL where threads switch only
            # when one waits (a one-core ESP32-C3, SCHED_FIFO on one CPU), and the main thread
            # never ran to release it: 20 s of spin, then wait_until's 20 s, then a failure
            if port.GIL:
                nap()
        events.append("released" if release[0] else "bound passed")
        return 7

    ex.start()  # worker 1 only: worker 0 is not run, so worker 1 takes the spawn
    h = ex.spawn(spin())
    wait_until(lambda: events == ["spinning"], "the task to start spinning")
    ex.close()
    with raises(Timeout, "join(timeout_ms=50): worker(s) [1] still running after 50 ms") as r:
        ex.join(timeout_ms=50)
    assert "make it yield" in str(r.value) and "join() again" in str(r.value)
    release[0] = True
    ex.join(timeout_ms=20000)  # bounded: a worker that did not return is a Timeout, not a hang
    assert events == ["spinning", "released"]
    assert ex.errors == [] and ex._threads == 0
    assert h.is_complete() and h.result() == 7
    ex.join(timeout_ms=0)  # every worker has returned: nothing to wait for


@needs_thread_module  # one worker, on this thread
def test_a_plain_scheduler_ticked_from_a_workers_task_is_refused():
    # Its polls would say what runs in the interpreter's one context cell, which the main
    # loop's thread uses too: with threads in parallel the two would overwrite it.
    plain = StaticScheduler(2)
    ran = []

    async def on_plain():
        ran.append("plain")

    h = plain.spawn(on_plain())
    ex = Executor(workers=1, capacity=4)

    async def main():
        for call in (plain.tick, RunLoop(plain).run):
            with raises(SchedulerBusy, "of a StaticScheduler on an executor worker's thread") as r:
                call()
            assert "Spawn those tasks on the executor" in str(r.value)
        return await ex.spawn(_value("still runs"))

    assert ex.run(main()) == "still runs"
    assert ran == [] and not h.is_complete()  # nothing of the plain scheduler ran there
    plain.tick()  # on the thread that owns it, once no worker polls here: it runs
    assert ran == ["plain"] and h.is_complete()
