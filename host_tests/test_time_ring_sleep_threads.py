# A thread that wakes every task slot over and over (as a buggy or racing waker may) while
# tasks sleep on the real clock in a tickless run loop: no sleep ends before its time, every
# task finishes: the hand-off of ring sleepers without a critical section (wheelpass.py) and
# wake() from the thread never both queue a task (a task queued twice would be resumed past
# its next sleep early, or break the run queue).
from shimeji import RunLoop, StaticScheduler, Timer, port, sleep_ms
from support import needs_threads

TASKS = 12
SLEEPS = 8


@needs_threads
def test_a_waking_thread_never_ends_a_sleep_early():
    import _thread

    timer = Timer(tick_us=1)
    s = StaticScheduler(TASKS, timer=timer)
    early = []
    done = []
    stop = [False]
    ended = _thread.allocate_lock()

    async def sleeper(i):
        for k in range(SLEEPS):
            ms = 1 + (i + k) % 3
            t0 = port.ticks_us()
            await sleep_ms(ms)
            took = port.ticks_diff(port.ticks_us(), t0)
            if took < ms * 1000:
                early.append((i, k, ms, took))
        done.append(i)

    def waker():
        with ended:
            while not stop[0]:
                for slot in s.slots:
                    s.wake(slot)

    for i in range(TASKS):
        s.spawn_detached(sleeper(i))
    _thread.start_new_thread(waker, ())
    try:
        loop = RunLoop(s, max_idle_us=200)
        while s.live_count():
            loop.step()
    finally:
        stop[0] = True
        with ended:
            pass
    assert early == []
    assert sorted(done) == list(range(TASKS))
