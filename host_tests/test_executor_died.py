# A worker thread that dies of an error (issue 14; on the classic ESP32 a RecursionError from a
# small thread stack) closes the executor: the other workers end, the dead worker's tasks are
# cancelled (their finally blocks run, in join()), and run(main) raises WorkerDied, chained to
# the error, where it used to wait for ever for the dead worker's tasks. The failure is
# injected: worker 1's tick raises once armed. Bounded: main awaits the task under timeout(),
# so without the fix the test fails with Timeout instead of hanging.
from shimeji import (
    Executor,
    ExecutorClosed,
    ShimejiError,
    WorkerDied,
    sleep_ms,
    timeout,
    yield_now,
)
from support import IS_MICROPYTHON, Bound, needs_extra_threads, raises


class _Injected(Exception):
    pass


async def _value(x):
    await yield_now()
    return x


def _doom(worker, armed):
    tick = worker._tick_own

    def failing_tick(sched, n):
        if armed[0]:
            raise _Injected("maximum recursion depth exceeded (injected)")
        return tick(sched, n)

    worker._tick_own = failing_tick  # the tick a FIFO worker's loop calls (Worker.run)


def _run_with_dead_worker(workers):
    ex = Executor(workers=workers, capacity=4)
    armed = [False]
    state = {"started": False, "finally": False}
    _doom(ex.workers[1], armed)

    async def victim():  # parked on worker 1's timer wheel: no other worker can steal it
        state["started"] = True
        try:
            await sleep_ms(60000)
        finally:
            state["finally"] = True

    async def main():
        h = ex.workers[1].spawn(victim())
        bound = Bound(20)
        while not state["started"]:
            assert not bound.passed(), "worker 1 never started its task"
            await yield_now()
        armed[0] = True
        ex.workers[1].ring()  # it sleeps: its next loop ticks, and the tick raises
        return await timeout(h, 20000)  # (not reached: the executor closes first)

    with raises(WorkerDied, "worker 1's thread died of") as r:
        ex.run(main())
    err = r.value
    assert isinstance(err, ExecutorClosed) and isinstance(err, ShimejiError)
    assert "stack" in str(err) and "Executor.errors" in str(err)
    assert len(ex.errors) == 1
    index, e = ex.errors[0]
    assert index == 1 and type(e) is _Injected
    if not IS_MICROPYTHON:  # (MicroPython keeps no __cause__)
        assert err.__cause__ is e
    assert state["finally"], "the dead worker's task was not cancelled"
    assert ex._threads == 0  # every other worker's thread ended
    assert all(w._thread is None for w in ex.workers)
    coro = _value(1)
    with raises(WorkerDied, "worker 1's thread died of"):  # a spawn afterwards says why
        ex.spawn(coro)
    coro.close()  # refused: it never ran
    ex.join()  # a second join does nothing
    assert Executor(workers=workers, capacity=4).run(_value(7)) == 7  # a fresh one works


@needs_extra_threads(1)
def test_dead_worker_closes_two_workers():
    _run_with_dead_worker(2)


@needs_extra_threads(3)
def test_dead_worker_closes_four_workers():
    _run_with_dead_worker(4)
