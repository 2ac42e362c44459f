# A second thread plays the interrupt handler: it hammers the ISR-safe entry points
# (WaitCell.wake, Channel.try_send, Semaphore.release, Event.set) while the scheduler runs in
# the main thread. Nothing may be lost or duplicated. Loops are bounded; no wall-clock asserts.
import time

from shimeji import Channel, Semaphore, StaticScheduler, WaitCell
from support import IS_MICROPYTHON, needs_threads

N = 300
LIMIT = 30000  # idle rounds of at least 1 ms each: a bound, never an assertion about time


def _yield_cpu():
    if IS_MICROPYTHON:
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


def _spin_until(cond):
    n = LIMIT
    while not cond():
        n -= 1
        if not n:
            return False
        _yield_cpu()
    return True


def start_thread(fn, args):
    import _thread

    _thread.start_new_thread(fn, args)


def _run(s, cond):
    n = LIMIT
    while not cond() and n:
        if not s.tick().has_remaining:
            _yield_cpu()
        n -= 1


@needs_threads
def test_waitcell_wakes_in_lockstep_are_never_lost_or_doubled():
    s = StaticScheduler(4)
    cell = WaitCell()
    produced = [0]
    acked = [0]
    seen = []
    done = []

    async def consumer():
        while acked[0] < N:
            await cell.wait()
            v = produced[0]
            seen.append(v)
            acked[0] = v

    def isr():
        for i in range(N):
            if not _spin_until(lambda: acked[0] == i):  # noqa: B023 - called at once
                break
            produced[0] = i + 1
            cell.wake()
        done.append(1)

    h = s.spawn(consumer())
    s.tick()
    start_thread(isr, ())
    _run(s, lambda: h.is_complete() and done)
    _spin_until(lambda: done)
    h.result()
    assert seen == list(range(1, N + 1))


@needs_threads
def test_waitcell_free_running_wakes_lose_nothing():
    s = StaticScheduler(4)
    cell = WaitCell()
    produced = [0]
    wakeups = [0]
    done = []

    async def consumer():
        while produced[0] < N or not done:
            await cell.wait()
            wakeups[0] += 1

    def isr():
        for _ in range(N):
            produced[0] += 1
            cell.wake()
        done.append(1)

    h = s.spawn(consumer())
    s.tick()
    start_thread(isr, ())
    _run(s, lambda: done)
    cell.wake()  # the consumer may park once more after the thread's last wake
    _run(s, h.is_complete)
    h.result()
    assert produced[0] == N
    assert 1 <= wakeups[0] <= N + 1  # each wake() call ends at most one wait


def _channel_hammer(capacity, consumers, use_ready):
    s = StaticScheduler(8)
    ch = Channel(capacity)
    got = [[] for _ in range(consumers)]
    done = []

    async def consumer(mine):
        while True:
            if use_ready:
                await ch.ready()
                item = ch.try_recv()
                if item is None:
                    continue
            else:
                item = await ch.recv()
            if item == -1:
                return
            mine.append(item)

    def isr():
        for i in list(range(N)) + [-1] * consumers:
            if not _spin_until(lambda: ch.try_send(i)):  # noqa: B023 - called at once
                break
        done.append(1)

    hs = [s.spawn(consumer(got[k])) for k in range(consumers)]
    s.tick()
    start_thread(isr, ())
    _run(s, lambda: done and all(h.is_complete() for h in hs))
    _spin_until(lambda: done)
    for h in hs:
        h.result()
    for mine in got:
        assert mine == sorted(mine)  # each consumer sees items in order
    merged = sorted(x for mine in got for x in mine)
    assert merged == list(range(N))  # every item once: nothing lost, nothing duplicated


@needs_threads
def test_channel_try_send_from_a_thread_one_receiver():
    _channel_hammer(4, 1, False)


@needs_threads
def test_channel_try_send_from_a_thread_two_receivers_ready_loop():
    _channel_hammer(3, 2, True)


@needs_threads
def test_semaphore_release_from_a_thread_loses_no_permit():
    s = StaticScheduler(4)
    sem = Semaphore(0)
    taken = [0]
    done = []

    async def consumer():
        while taken[0] < N:
            await sem.acquire()
            taken[0] += 1

    def isr():
        for _ in range(N):
            sem.release()
        done.append(1)

    h = s.spawn(consumer())
    s.tick()
    start_thread(isr, ())
    _run(s, lambda: done and h.is_complete())
    _spin_until(lambda: done)
    h.result()
    assert taken[0] == N and sem.available() == 0
