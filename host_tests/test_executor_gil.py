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
