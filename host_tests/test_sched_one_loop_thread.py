# One thread at a time polls plain schedulers (sched/loopthread.py): a loop started on a thread
# while another thread's loop (a foreground loop's or a ThreadBackground's) runs raises
# SchedulerBusy before it changes anything, saying what to do; the running loop goes on, and
# the refused one runs once the other has ended. Before session 18 the second loop ran: both
# loops wrote the interpreter's one context cell (the current task) and yield_now's one ring,
# with no GIL on the unix port. Every wait is bounded (support.wait_until).
import time

import shimeji
import shimeji.asyncio as asyncio
from shimeji import RunLoop, SchedulerBusy, StaticScheduler, Timer, sleep_ms, yield_now
from shimeji.platform.bsp import BoardBase
from shimeji.sched import loopthread
from shimeji.sched.background import ThreadBackground
from support import needs_extra_threads, needs_threads, raises, wait_until

try:
    import _thread
except ImportError:  # (the tests are skipped: needs_threads)
    _thread = None

ADVICE = "one thread"  # (the refusal's advice: poll every plain scheduler from one thread)


class _LoopThread:
    """``RunLoop.run`` over a scheduler of its own on another thread, until ``stop()``."""

    def __init__(self):
        self.sched = StaticScheduler(4, timer=Timer())
        self.quit = [False]
        self.st = {"running": False, "done": False, "result": None}

    def start(self):
        async def main():
            self.st["running"] = True
            while not self.quit[0]:
                await sleep_ms(1)
            return "ran"

        h = self.sched.spawn(main())

        def body():
            try:
                self.st["result"] = RunLoop(self.sched).run(h)
            except BaseException as e:  # (reported by stop())
                self.st["result"] = repr(e)
            finally:
                self.st["done"] = True

        _thread.start_new_thread(body, ())
        wait_until(lambda: self.st["running"] or self.st["done"], "the loop thread's start")
        return self

    def stop(self):
        self.quit[0] = True
        wait_until(lambda: self.st["done"], "the loop thread's end")
        assert self.st["result"] == "ran", self.st  # it ran on, whatever was refused meanwhile


async def _count(box, n):
    for _ in range(n):
        box[0] += 1
        await yield_now()
    return box[0]


def _unclaimed():
    from shimeji.sched import background

    return not loopthread._owners and not background._loop_threads


@needs_threads
def test_a_run_loop_started_while_another_threads_loop_runs_is_refused_then_runs():
    other = _LoopThread().start()
    s = StaticScheduler(4, timer=Timer())
    box = [0]
    h = s.spawn(_count(box, 5))
    try:
        with raises(SchedulerBusy, ADVICE) as r:
            RunLoop(s).run(h)
        assert "RunLoop.run()" in str(r.value) and "another thread" in str(r.value)
        assert box == [0] and not h.is_complete()  # not polled at all
    finally:
        other.stop()
    assert _unclaimed()
    assert RunLoop(s).run(h) == 5  # the refused loop runs now that the other has ended
    assert _unclaimed()


@needs_threads
def test_run_until_complete_and_the_asyncio_facades_run_are_refused_before_anything_runs():
    other = _LoopThread().start()
    s = StaticScheduler(4, timer=Timer())
    box = [0]
    try:
        coro = _count(box, 3)
        with raises(SchedulerBusy, ADVICE):
            s.run_until_complete(coro)
        assert s.live_count() == 0 and box == [0]  # nothing spawned
        coro.close()  # the caller's still (CPython would warn it was never awaited)
        coro = _count(box, 2)
        with raises(SchedulerBusy, ADVICE):
            asyncio.run(coro)
        coro.close()  # never scheduled
        assert box == [0]
    finally:
        other.stop()
    assert s.run_until_complete(_count(box, 3)) == 3
    assert asyncio.run(_count(box, 2)) == 5
    assert _unclaimed()


@needs_extra_threads(2)
def test_two_threads_of_the_users_own_the_second_loop_is_refused():
    # Both loops on threads of their own: the one that starts second is refused.
    first = _LoopThread().start()
    out = {}

    def second():
        s = StaticScheduler(2, timer=Timer())
        coro = _count([0], 1)
        try:
            out["result"] = s.run_until_complete(coro)
        except SchedulerBusy as e:
            out["result"] = "refused" if ADVICE in str(e) else str(e)
            coro.close()
        finally:
            out["done"] = True

    try:
        _thread.start_new_thread(second, ())
        wait_until(lambda: "done" in out, "the second loop thread's end")
    finally:
        first.stop()
    assert out["result"] == "refused", out
    assert _unclaimed()


class _Board(BoardBase):
    NAME = "fake"

    def __init__(self):
        BoardBase.__init__(self)
        self.events = []

    def start_wakeups(self, timer):
        self.events.append("wakeups on")

    def stop_wakeups(self):
        self.events.append("wakeups off")

    def idle(self, us):
        time.sleep(0.0002)


@needs_threads
def test_a_loop_on_the_repls_thread_while_a_thread_background_runs_is_refused():
    sched = StaticScheduler(4, timer=Timer())
    board = _Board()
    bg = ThreadBackground(board, RunLoop(sched, max_idle_us=200)).start()
    box = [0]
    h = bg.spawn(_count(box, 30))
    s = StaticScheduler(4, timer=Timer())
    try:
        wait_until(lambda: bg.loop_thread is not None or not bg.running, "the loop thread")
        for run in (s.run_until_complete, shimeji.run):
            coro = _count(box, 1)
            with raises(SchedulerBusy, ADVICE):
                run(coro)
            coro.close()
        assert s.live_count() == 0
        wait_until(h.is_complete, "the background's task")  # the background ran on
        assert h.result() == 30 and bg.error is None
    finally:
        assert bg.stop() is True
    assert _unclaimed()
    assert s.run_until_complete(_count([0], 4)) == 4


@needs_threads
def test_a_thread_background_is_not_started_while_a_foreground_loop_runs():
    other = _LoopThread().start()
    board = _Board()
    bg = ThreadBackground(board, RunLoop(StaticScheduler(2, timer=Timer())))
    try:
        with raises(SchedulerBusy, "ThreadBackground.start()"):
            bg.start()
        assert not bg.running and board.events == [] and bg.loop_thread is None
    finally:
        other.stop()
    assert bg.start() is bg and board.events == ["wakeups on"]  # now it starts
    assert bg.stop() is True
    assert _unclaimed()


@needs_threads
def test_a_loop_nested_in_a_task_on_the_same_thread_still_runs():
    # Not another thread: a task of a foreground loop may drive a second scheduler's loop.
    inner = StaticScheduler(2, timer=Timer())

    async def outer():
        return inner.run_until_complete(_count([0], 3))

    s = StaticScheduler(2, timer=Timer())
    assert RunLoop(s).run(s.spawn(outer())) == 3
    assert _unclaimed()
