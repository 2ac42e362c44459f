# shimeji: host-only (loopback sockets and worker threads: a board without networking has neither)
"""I/O waits in an executor's tasks: each worker has its own poller, polled by its loop; an
idle worker with tasks waiting for I/O sleeps in that poller, and a ring (a spawn, a steal's
answer, close()) ends the poll through the poller's wake socket."""

from iohelp import close, send_all, tcp_pair
from shimeji import Executor, wait_readable, yield_now


def test_a_task_on_a_worker_waits_for_data_a_task_on_another_worker_sends():
    ex = Executor(workers=2, capacity=8)
    a, b = tcp_pair()
    got = []
    where = []

    async def reader():
        where.append(ex.workers.index(_worker_of_current(ex)))
        buf = bytearray(8)
        while len(got) < 3:
            await wait_readable(b)
            n = b.readinto(buf)
            got.extend(buf[:n])
        return bytes(got)

    async def writer(h):
        for i in range(3):
            for _ in range(20):
                await yield_now()
            send_all(a, bytes([65 + i]))
        return await h

    async def main():
        h = ex.spawn(reader())
        return await ex.spawn(writer(h))

    try:
        assert ex.run(main()) == b"ABC"
    finally:
        close(a, b)
    assert all(w.poller is None for w in ex.workers)  # closed with their workers


def _worker_of_current(ex):
    from shimeji import core

    return core.current_slot().sched


def test_a_worker_idle_in_its_poller_is_rung_by_a_spawn_from_outside():
    # Only worker 1 runs (on its thread; worker 0 is never run). Its only task waits for
    # data that never comes, so it idles in its poller (up to a second per wait). A task
    # spawned from this thread goes to the injector and rings the sleeper: worker 1 must
    # leave the poll through its wake socket and run it. No clock: bounded waits for states.
    ex = Executor(workers=2, capacity=8)
    w1 = ex.workers[1]
    a, b = tcp_pair()
    ran = []

    async def stuck():
        await wait_readable(b)

    async def outside():
        ran.append(_worker_of_current(ex).index)

    try:
        h = w1.spawn(stuck())
        ex.start()
        _wait_for(lambda: w1.sleeping and w1._idle_in_poller)
        ex.spawn(outside())
        _wait_for(lambda: ran)
        assert ran == [1]
        assert w1.poller.wakeups >= 1 and w1.woken_cross >= 1  # the ring ended the poll
        assert w1.injected == 1
        h.cancel()
    finally:
        ex.close()
        ex.join()
        close(a, b)
    assert not ex.errors and w1.live_count() == 0


def _wait_for(cond):
    import time

    for _ in range(20000):
        if cond():
            return
        time.sleep(0.001)
    raise AssertionError("the executor never reached the state this test waits for")
