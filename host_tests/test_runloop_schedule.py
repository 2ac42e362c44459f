# shimeji: host-only (loopback sockets, a wake socket and a second thread)
# RunLoop.schedule(fn, arg) from another thread while the loop idles in poll with nothing else
# due: micropython.schedule, then the wake byte, so the callback runs while the loop still
# idles. Plain micropython.schedule does not end the unix port's poll: its callback waited for
# the poll's timeout (here none for minutes: the test's thread gives up after a few seconds).
import _thread
import time

from iohelp import close, tcp_pair
from shimeji import RunLoop, StaticScheduler, Timer, poller_for, wait_readable
from shimeji.sched import loopiter
from support import IS_MICROPYTHON, needs_threads

_GIVE_UP_MS = 5000  # the thread's wait for the callback (a guard, not a measured time)


def _sleep_ms(ms):
    if IS_MICROPYTHON:
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def _schedule_while_idle(fused):
    s = StaticScheduler(4, timer=Timer())
    loop = RunLoop(s, max_idle_us=None)  # no deadline: only the poll's cap ends an idle
    a, b = tcp_pair()
    p = poller_for(s)
    seen = {"ran": None, "before_data": None, "thread": None}

    def callback(arg):
        seen["ran"] = arg
        seen["thread"] = _thread.get_ident()

    async def reader():
        await wait_readable(b)
        return b.read(1)

    def other():
        for _ in range(_GIVE_UP_MS):  # the loop idles in poll: nothing else can end it
            if p.sleeping:
                break
            _sleep_ms(1)
        loop.schedule(callback, 7)
        for _ in range(_GIVE_UP_MS):
            if seen["ran"] is not None or not IS_MICROPYTHON and p.wakeups:
                break
            _sleep_ms(1)
        seen["before_data"] = seen["ran"] is not None
        a.write(b"x")  # ends the reader, and the run

    saved = loopiter.run_lean
    loopiter.run_lean = saved if fused else None
    try:
        _thread.start_new_thread(other, ())
        assert loop.run(s.spawn(reader())) == b"x"
    finally:
        loopiter.run_lean = saved
        p.close()
        close(a, b)
    return seen, p


@needs_threads
def test_runloop_schedule_from_another_thread_ends_the_idle_poll():
    for fused in (True, False):
        if fused and loopiter.run_lean is None:
            continue  # rp2: no run_lean
        seen, p = _schedule_while_idle(fused)
        assert seen["ran"] == 7, seen
        assert p.wakeups >= 1  # the wake byte ended that poll, not the data
        if IS_MICROPYTHON:
            assert seen["before_data"], seen  # it ran while the loop still waited in poll
            assert seen["thread"] == _thread.get_ident()  # on the loop's thread
        # (CPython's stand-in runs a callback from another thread at once, or, once an
        # interrupt-level scheduler installed its check points, at the next task's poll:
        # here the reader's, after the data. The poll ended for the wake byte all the same.)


def test_runloop_schedule_without_a_wake_socket_only_queues_the_callback():
    # No poller: nothing to end (a board's idle ends on the interrupt that scheduled it).
    s = StaticScheduler(2, timer=Timer())
    loop = RunLoop(s)
    ran = []
    loop.schedule(ran.append, 3)
    if not IS_MICROPYTHON:
        assert ran == [3]  # CPython's stand-in runs it at once outside any poll
    loop.step()
    assert ran == [3]
