# shimeji: host-only (loopback sockets and worker threads: a board without networking has neither)
"""An I/O wait on an executor's worker while the main thread's RunLoop is in the middle of a
poll: the wait registers the worker's own task with the worker's own poller (until session 19
it read the interpreter's context first: the main loop's task, and its scheduler's poller)."""

from iohelp import close, send_all, tcp_pair
from shimeji import (
    Executor,
    RunLoop,
    StaticScheduler,
    Timer,
    Trace,
    core,
    current_task,
    sleep_ms,
    wait_readable,
)
from shimeji.trace import kinds as K
from support import Bound, nap, needs_extra_threads


@needs_extra_threads(1)
def test_a_worker_waits_for_io_while_the_main_loop_is_mid_poll():
    ex = Executor(workers=2, capacity=8)  # (worker 0 is left unrun: start())
    w1 = ex.workers[1]
    trace = Trace(256).attach(w1)
    a, b = tcp_pair()
    go = [False]
    seen = {}

    async def reader():
        while not go[0]:
            await sleep_ms(1)
        seen["waiting"] = True
        await wait_readable(b)
        seen["own"] = current_task() is h
        seen["data"] = b.read(8)
        seen["slot"] = core.current_slot().sched is w1
        trace.mark(5)

    async def polled():
        me = core.current_slot()
        go[0] = True
        bound = Bound(30)
        while "waiting" not in seen and not bound.passed():
            nap()
        for _ in range(20):  # (the wait most likely registered by now; either way it ends)
            nap()
        send_all(a, b"x")
        while not h.is_complete() and not bound.passed():
            nap()
        seen["main slot"] = me.io_obj is None and me.sched.poller is None

    h = w1.spawn(reader())
    ex.start()
    try:
        s = StaticScheduler(4, timer=Timer())
        RunLoop(s).run(s.spawn(polled()))
        h.result()  # (raises what the reader raised)
    finally:
        ex.close()
        ex.join()
        close(a, b)
    assert seen == {"waiting": True, "own": True, "data": b"x", "slot": True,
                    "main slot": True}, seen
    marks = [r for r in trace.records() if r[1] == K.MARK]
    assert [r[2] for r in marks] == [h.id], marks
    assert not ex.errors
