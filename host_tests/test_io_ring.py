# shimeji: host-only (loopback sockets and a wake socket)
# News that the poller's doze does not look at (it reads the inbox, in the section a wake
# links under): a RunLoop.stop(), a ThreadSafeFlag.set(), a call_soon_threadsafe(), a
# RunLoop.schedule(). Each lands here as another thread's would at the worst moment: after
# the loop's last look at it and before the doze, played in the section's take that the doze
# makes (no thread, no luck). A notify that reads ``sleeping`` sends nothing then (not asleep
# yet) and the poll ran to its cap; ``IOPoller.ring`` sends the wake byte whatever ``sleeping``
# says, so the poll returns at once (``wakeups``: the byte ended it, not the cap).
import shimeji.asyncio as asyncio
from iohelp import close, tcp_pair
from shimeji import RunLoop, StaticScheduler, Timer, poller_for, wait_readable
from shimeji.sched import loopiter
from support import IS_MICROPYTHON

_CAP_US = 300000  # each idle in poll: a missed byte makes it run to this


class Landing:
    """Calls ``news()`` once, in the first take of the section after ``runloop``'s idle count
    passed what it was at ``__enter__`` (the doze's: the idle is counted just before it), then
    takes the section. The section: the lock's ``_acquire`` where ``poll`` takes it in line,
    else the scheduler's ``_enter``."""

    def __init__(self, s, p, runloop, news):
        self.runloop, self.news = runloop, news
        self.obj, self.name = (p._lock, "_acquire") if p._lock is not None else (s, "_enter")
        self.real = getattr(self.obj, self.name)
        self.landed = 0

    def _take(self, *args):
        if not self.landed and self.runloop.idles > self.idles:
            self.landed = self.runloop.idles
            self.news()
        return self.real(*args)

    def __enter__(self):
        self.idles = self.runloop.idles
        setattr(self.obj, self.name, self._take)
        return self

    def __exit__(self, *exc):
        setattr(self.obj, self.name, self.real)


def _reader_loop():
    # A loop whose only task waits for I/O that never comes: it idles in poll, up to the cap.
    s = StaticScheduler(4, timer=Timer())
    loop = RunLoop(s)
    pair = tcp_pair()

    async def silent():
        await wait_readable(pair[1])

    s.spawn(silent())
    s.tick()
    p = poller_for(s)
    p.max_idle_us = _CAP_US
    return s, loop, p, pair


def _paths():
    # run_lean (the fused loop) where this runtime has it, and iterate's
    return [True, False] if loopiter.run_lean is not None else [False]


def _stopped(fused, news):
    s, loop, p, pair = _reader_loop()
    saved = loopiter.run_lean
    loopiter.run_lean = saved if fused else None
    try:
        with Landing(s, p, loop, lambda: news(loop)) as landing:
            loop.run()
    finally:
        loopiter.run_lean = saved
        close(*pair)
    return landing, loop, p


def test_a_stop_landing_before_the_doze_ends_the_poll_at_once():
    for fused in _paths():
        landing, loop, p = _stopped(fused, RunLoop.stop)
        assert landing.landed == 1 and loop.idles == 1, (fused, landing.landed, loop.idles)
        assert p.wakeups == 1, (fused, p.wakeups)  # (0: the poll ran to its cap)


def test_a_scheduled_callback_landing_before_the_doze_runs_without_waiting_for_the_cap():
    ran = []

    def news(loop):
        loop.schedule(lambda arg: (ran.append(arg), loop.stop()), "cb")

    for fused in _paths():
        del ran[:]
        landing, loop, p = _stopped(fused, news)
        assert ran == ["cb"] and landing.landed == 1, (fused, ran, landing.landed)
        # MicroPython runs a pending callback as its poll begins (it stops the loop, whose
        # notify then finds it asleep); CPython's stand-in between polls: the byte ends it.
        assert p.wakeups == 1, (fused, p.wakeups)


def _facade_waits(arm):
    # A facade loop whose main task waits on what ``arm(loop, done)`` makes, beside a task
    # waiting for I/O that never comes (so the loop idles in poll); ``arm`` returns the news
    # to land before the doze. Returns (what main got, the landing, the poller).
    asyncio.set_event_loop(None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pair = tcp_pair()
    seen = {}

    async def silent():
        await wait_readable(pair[1])

    async def main():
        loop.create_task(silent())
        await asyncio.sleep(0)  # (it waits now: the poller exists)
        p = poller_for(loop.sched)
        p.max_idle_us = _CAP_US
        wait, news = arm(loop)
        with Landing(loop.sched, p, loop.runloop, news) as landing:
            got = await wait
        seen["landing"], seen["p"] = landing, p
        return got

    try:
        got = loop.run_until_complete(main())
    finally:
        close(*pair)
        asyncio.set_event_loop(None)
    return got, seen["landing"], seen["p"]


def test_a_threadsafe_flag_set_before_the_doze_ends_the_poll_at_once():
    def arm(loop):
        flag = asyncio.ThreadSafeFlag()

        async def wait():
            await flag.wait()
            return "set"

        return wait(), flag.set

    got, landing, p = _facade_waits(arm)
    assert got == "set" and landing.landed >= 1
    assert p.wakeups >= 1, p.wakeups  # (0: the poll ran to its cap)


def test_a_call_soon_threadsafe_before_the_doze_ends_the_poll_at_once():
    def arm(loop):
        fut = loop.create_future()
        return fut, lambda: loop.call_soon_threadsafe(fut.set_result, "called")

    got, landing, p = _facade_waits(arm)
    assert got == "called" and landing.landed >= 1
    assert p.wakeups >= 1, p.wakeups
    assert IS_MICROPYTHON or p.sleeping is False
