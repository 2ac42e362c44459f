# The viper tick's in-line completion keeps the free list's top in a local (ftop) and pushes
# each finished slot on it without reading _free_head back, forgetting it whenever something
# else may have moved the top: a spawn in the poll between two completions (by any path), a
# completion through _complete (a value, an error), a slot given back to its owner. After every
# mix of those in one tick the free list holds every free slot once, and no live one: no slot
# lost, none handed out twice. Each check runs on the viper tick (what tick() runs here) and on
# the native one (fastpath.tick_fifo). Both runtimes.
from shimeji import StaticScheduler, TaskSlot, yield_now
from shimeji.sched import fastpath

TICKS = (lambda s: s.tick(), lambda s: fastpath.tick_fifo(s, 256))


def _free_chain(s):
    out = []
    slot = s._free_head
    while slot is not None:
        assert slot.coro is None, "a live slot on the free list"
        assert slot not in out, "a slot on the free list twice"
        out.append(slot)
        slot = slot.run_next
    return out


def _check(s):
    free = _free_chain(s)
    assert len(free) == s.capacity - s.live_count()
    return len(free)


async def none():
    return None


async def value(v):
    return v


async def fails():
    raise ValueError("boom")


def test_completions_with_values_and_errors_between_in_line_ones():
    for tick in TICKS:
        s = StaticScheduler(8)
        hs = [s.spawn(c) for c in (none(), value(5), none(), fails(), none(), value(None),
                                  none(), none())]
        tick(s)
        assert _check(s) == 8
        assert hs[1].result() == 5 and hs[5].result() is None and hs[3].is_complete()
        # every slot comes back: a second round takes all eight again
        hs = [s.spawn(none()) for _ in range(8)]
        tick(s)
        assert _check(s) == 8 and all(h.is_complete() for h in hs)
        s.close()


def test_a_poll_that_spawns_between_two_completions():
    for tick in TICKS:
        _spawns_between(tick)


def _spawns_between(tick):
    s = StaticScheduler(10)
    log = []

    async def spawner(name, named):
        if named:
            s.spawn(value(name), name="n")  # _start: the tick's own list
        else:
            s.spawn(value(name))
        s.spawn_detached(none())
        log.append(name)

    async def spawn_then_yield():
        s.spawn(value("y"))
        await yield_now()  # its spawn is spliced in (the news) before the next completion
        log.append("yielded")

    hs = [s.spawn(c) for c in (none(), spawner("a", False), none(), spawn_then_yield(),
                              none(), spawner("b", True), none())]
    tick(s)
    assert _check(s) == 10
    assert log == ["a", "b", "yielded"] and all(h.is_complete() for h in hs)
    hs = [s.spawn(none()) for _ in range(10)]  # all ten free, each once
    tick(s)
    assert _check(s) == 10
    s.close()


def test_a_caller_owned_slot_and_a_full_pool_refilled_in_one_tick():
    for tick in TICKS:
        _refilled(tick)


def _refilled(tick):
    s = StaticScheduler(4)
    mine = TaskSlot()
    done = []

    async def refill():
        # the pool is full: each completion before this poll freed one slot
        for _ in range(3):
            done.append(s.spawn(none()))

    s.spawn(none())
    s.spawn_allocated(mine, none())  # completes off the free list (not a pool slot)
    s.spawn(none())
    s.spawn(none())
    s.spawn(refill())
    tick(s)
    assert _check(s) == 4 and len(done) == 3 and all(h.is_complete() for h in done)
    assert mine.coro is None and mine not in _free_chain(s)
    s.close()
