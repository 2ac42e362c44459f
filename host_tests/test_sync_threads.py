# Something plays the interrupt handler and hammers the ISR-safe entry points (WaitCell.wake,
# Channel.try_send, Semaphore.release) while the scheduler runs in the main thread: a second
# thread on the hosted ports, a hard machine.Timer interrupt on boards without one (irqsource).
# Nothing may be lost or duplicated. Loops are bounded; no wall-clock asserts.
import time

from irqsource import BUSY, DONE, WAIT, InterruptSource, needs_interrupt_source
from shimeji import Channel, Semaphore, StaticScheduler, WaitCell
from support import IS_MICROPYTHON

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


def _run(s, cond):
    n = LIMIT
    while not cond() and n:
        if not s.tick().has_remaining:
            _yield_cpu()
        n -= 1


@needs_interrupt_source
def test_waitcell_wakes_in_lockstep_are_never_lost_or_doubled():
    s = StaticScheduler(4)
    cell = WaitCell()
    produced = [0]
    acked = [0]
    seen = []

    async def consumer():
        while acked[0] < N:
            await cell.wait()
            v = produced[0]
            seen.append(v)
            acked[0] = v

    def isr():  # the next value once the consumer has taken the last
        if acked[0] != produced[0]:
            return WAIT
        if produced[0] == N:
            return DONE
        produced[0] += 1
        cell.wake()
        return BUSY

    h = s.spawn(consumer())
    s.tick()
    src = InterruptSource(isr).start()
    try:
        _run(s, lambda: h.is_complete() and src.done)
        _spin_until(lambda: src.done)
    finally:
        src.stop()
    h.result()
    assert seen == list(range(1, N + 1)) and src.done


@needs_interrupt_source
def test_waitcell_free_running_wakes_lose_nothing():
    s = StaticScheduler(4)
    cell = WaitCell()
    produced = [0]
    wakeups = [0]
    src = None

    async def consumer():
        while produced[0] < N or not src.done:
            await cell.wait()
            wakeups[0] += 1

    def isr():
        if produced[0] == N:
            return DONE
        produced[0] += 1
        cell.wake()
        return BUSY

    h = s.spawn(consumer())
    src = InterruptSource(isr)
    s.tick()
    src.start()
    try:
        _run(s, lambda: src.done)
    finally:
        src.stop()
    cell.wake()  # the consumer may park once more after the source's last wake
    _run(s, h.is_complete)
    h.result()
    assert produced[0] == N
    assert 1 <= wakeups[0] <= N + 1  # each wake() call ends at most one wait


def _channel_hammer(capacity, consumers, use_ready):
    s = StaticScheduler(8)
    ch = Channel(capacity)
    got = [[] for _ in range(consumers)]
    items = list(range(N)) + [-1] * consumers  # made here: the interrupt allocates nothing
    sent = [0]

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

    def isr():  # the next item, once the channel has room
        k = sent[0]
        if k == len(items):
            return DONE
        if not ch.try_send(items[k]):
            return WAIT
        sent[0] = k + 1
        return BUSY

    hs = [s.spawn(consumer(got[k])) for k in range(consumers)]
    s.tick()
    src = InterruptSource(isr).start()
    try:
        _run(s, lambda: src.done and all(h.is_complete() for h in hs))
        _spin_until(lambda: src.done)
    finally:
        src.stop()
    for h in hs:
        h.result()
    for mine in got:
        assert mine == sorted(mine)  # each consumer sees items in order
    merged = sorted(x for mine in got for x in mine)
    assert merged == list(range(N))  # every item once: nothing lost, nothing duplicated


@needs_interrupt_source
def test_channel_try_send_from_a_thread_one_receiver():
    _channel_hammer(4, 1, False)


@needs_interrupt_source
def test_channel_try_send_from_a_thread_two_receivers_ready_loop():
    _channel_hammer(3, 2, True)


@needs_interrupt_source
def test_semaphore_release_from_a_thread_loses_no_permit():
    s = StaticScheduler(4)
    sem = Semaphore(0)
    taken = [0]
    released = [0]

    async def consumer():
        while taken[0] < N:
            await sem.acquire()
            taken[0] += 1

    def isr():
        if released[0] == N:
            return DONE
        sem.release()
        released[0] += 1
        return BUSY

    h = s.spawn(consumer())
    s.tick()
    src = InterruptSource(isr).start()
    try:
        _run(s, lambda: src.done and h.is_complete())
        _spin_until(lambda: src.done)
    finally:
        src.stop()
    h.result()
    assert taken[0] == N and sem.available() == 0
