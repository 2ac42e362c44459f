"""A busy worker hands the GIL over (docs/executor.md, "One core with a GIL").

Where threads of equal priority share one core and switch only when one waits (FreeRTOS on a
one-core ESP32-C3; SCHED_FIFO on one CPU), a GIL released at a bytecode branch is taken back
before any other thread runs: a worker that always had work kept every other thread off the
core, the thread calling ``close()`` too. With a GIL (``port.GIL``) a busy worker now waits
without it (``port.sleep_idle``) once ``Worker.gil_turn_ms`` ms have passed since its last
wait. ``test_platform_gil.py`` shows it on one CPU; here the loop's part, on every runtime."""

from shimeji import Executor, port, yield_now
from shimeji.executor.worker import Worker
from support import needs_thread_module


def _busy_for(ms, worker=None):
    """Yield until ``ms`` have passed on the clock and, given a ``worker``, it has handed the
    GIL over at least once (a loaded machine may stop this thread for the whole ``ms`` inside
    one tick: the busy task then ended before the worker looked at the clock between ticks,
    with no hand-over, once in 4 loaded runs); False after 5 s without (bounded)."""
    async def busy():
        start = port.ticks_ms()
        for _ in range(10000000):  # bounded, as the 5 s are
            gone = port.ticks_diff(port.ticks_ms(), start)
            if gone >= ms and (worker is None or worker.gil_handovers):
                return True
            if gone >= 5000:
                return False
            await yield_now()
        return False

    return busy()


@needs_thread_module  # an Executor (one worker, on this thread)
def test_a_busy_worker_hands_over_once_per_turn_when_set():
    ex = Executor(workers=1, capacity=4)
    w = ex.workers[0]
    w.gil_turn_ms = 1
    assert ex.run(_busy_for(20, w)) is True  # (False: no hand-over in 5 s)
    # 20 ms of turns (thousands), a hand-over each 1 ms or more: not one a turn, not none
    assert 1 <= w.gil_handovers <= 30, w.gil_handovers
    assert ex.stats()[0]["gil_handovers"] == w.gil_handovers


@needs_thread_module
def test_no_hand_overs_without_a_gil_or_when_off():
    assert Worker.gil_turn_ms == (10 if port.GIL else 0)
    ex = Executor(workers=1, capacity=4)
    w = ex.workers[0]
    w.gil_turn_ms = 0
    assert ex.run(_busy_for(15)) is True
    assert w.gil_handovers == 0


async def _idle():
    return None


@needs_thread_module  # an Executor, its steps driven on this thread
def test_a_thief_waiting_for_an_answer_takes_an_injected_task_instead_of_spinning():
    # Worker 1 ran dry and asked worker 0, busy, for work; a spawn from another thread then
    # filled the injector. Its wait for the answer ended at once each time (_sleep returns
    # when the injector holds work) and it looked only at its inbox, closing and requests:
    # a spin that never waited. With a GIL on one CPU (SCHED_FIFO; FreeRTOS on a one-core
    # ESP32-C3) worker 0 never ran to answer: test_executor_injector's feeding test on two
    # workers hung there, 3 runs of 3 (session 17). It now returns, and takes the task.
    ex = Executor(workers=2, capacity=4)
    w0, w1 = ex.workers
    w0._thread = w1._thread = 1  # both "running", so the thief asks worker 0
    ex.spawn_detached(_idle())  # the injector holds a task from now on
    waits = []
    sleep = w1._sleep

    def counted(for_answer=False):
        waits.append(for_answer)
        assert len(waits) < 100, "the thief spun waiting for worker 0's answer"
        sleep(for_answer)

    w1._sleep = counted
    try:
        assert w1._steal() is True
        assert w1._asked is w0 and w0._request is w1  # still asked: the answer follows
        assert w1._take_injected(256) == 1
    finally:
        del w1._sleep
        w0._thread = w1._thread = None
    w0._serve()  # worker 0 answers (nothing to hand over) and rings worker 1
    assert w1._asked is None and w0._request is None
    ex.close()
    ex.join()
    assert all(w.live_count() == 0 for w in ex.workers)
