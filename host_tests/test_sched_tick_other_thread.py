# A tick by hand on a second thread while a loop polls plain schedulers on another one (a
# RunLoop, run_until_complete, a ThreadBackground: sched/loopthread.py's ``ticking``) raises
# SchedulerBusy before it changes anything, saying to tick from one thread or use an Executor:
# both threads would say what runs in the interpreter's one context cell. Before session 19
# only a second loop's start was refused (test_sched_one_loop_thread.py); a hand-written
# `while True: sched.tick()` on another thread ran (or, mid-tick, was told it was inside a
# task). The loop's own thread ticks on; after the loop ends the refused thread ticks.
import time

from shimeji import (
    RunLoop,
    SchedulerBusy,
    ShimejiError,
    StaticScheduler,
    Timer,
    sleep_ms,
    yield_now,
)
from shimeji.platform.bsp import BoardBase
from shimeji.sched import loopthread
from shimeji.sched.background import ThreadBackground
from support import needs_threads, raises, wait_until

try:
    import _thread
except ImportError:  # (the tests are skipped: needs_threads)
    _thread = None

ADVICE = "one thread"  # (poll every plain scheduler from one thread...)


class _LoopThread:
    """``RunLoop.run`` over a scheduler of its own on another thread, until ``stop()``."""

    def __init__(self):
        self.sched = StaticScheduler(4, timer=Timer())
        self.quit = [False]
        self.ticks = [0]
        self.st = {"running": False, "done": False, "result": None}

    def start(self):
        async def main():
            self.st["running"] = True
            while not self.quit[0]:
                self.ticks[0] += 1
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


@needs_threads
def test_a_tick_by_hand_on_another_thread_is_refused_while_a_loop_runs_then_ticks():
    other = _LoopThread().start()
    mine = StaticScheduler(4, timer=Timer())
    box = [0]
    h = mine.spawn(_count(box, 3))
    try:
        for sched in (other.sched, mine):  # the loop's own scheduler, and one of this thread's
            for _ in range(20):  # (the loop idles or polls meanwhile: refused either way)
                with raises(SchedulerBusy, ADVICE) as r:
                    sched.tick()
                time.sleep(0.0003)
        e = r.value
        assert isinstance(e, ShimejiError) and "tick()" in str(e) and "Executor" in str(e)
        steps = RunLoop(mine)  # a loop written from a RunLoop's steps (docs/boards.md)
        for step in (steps.step, steps.tick):
            with raises(SchedulerBusy, ADVICE):
                step()
        assert box == [0] and not h.is_complete() and mine.live_count() == 1  # not polled
        seen = other.ticks[0]
        wait_until(lambda: other.ticks[0] > seen + 2, "the loop's task running on")
    finally:
        other.stop()
    assert not loopthread.ticking
    while mine.tick().has_remaining:  # the loop has ended: this thread ticks now
        pass
    assert h.result() == 3 and box == [3]


@needs_threads
def test_the_loops_own_thread_still_ticks_other_schedulers_from_a_task():
    inner = StaticScheduler(2)
    box = [0]
    inner.spawn(_count(box, 2))

    async def outer():
        ticks = 1
        while inner.tick().has_remaining:  # a task driving another scheduler by hand
            ticks += 1
        return ticks

    s = StaticScheduler(2, timer=Timer())
    assert RunLoop(s).run(s.spawn(outer())) >= 1 and box == [2]
    assert not loopthread.ticking


class _Board(BoardBase):
    NAME = "fake"

    def start_wakeups(self, timer):
        pass

    def stop_wakeups(self):
        pass

    def idle(self, us):
        time.sleep(0.0002)


@needs_threads
def test_a_tick_on_the_repls_thread_while_a_thread_background_runs_is_refused():
    sched = StaticScheduler(4, timer=Timer())
    bg = ThreadBackground(_Board(), RunLoop(sched, max_idle_us=200)).start()
    box = [0]
    h = bg.spawn(_count(box, 30))
    try:
        wait_until(lambda: bg.loop_thread is not None or not bg.running, "the loop thread")
        with raises(SchedulerBusy, ADVICE):
            sched.tick()
        wait_until(h.is_complete, "the background's task")  # the background ran on
        assert h.result() == 30 and bg.error is None
    finally:
        assert bg.stop() is True
    assert not loopthread.ticking
    h2 = sched.spawn(_count(box, 2))
    while sched.tick().has_remaining:  # stopped: the REPL's thread ticks again
        pass
    assert h2.result() == 32
