# The pool's free list is linked through run_next, and while a poll's spawns wait on the FIFO
# tick's own list that list's last task links to the free list's top: an in-line spawn appends
# the slot it takes with no store. Whatever frees a slot meanwhile (a completion with a value,
# a Ctrl-C) keeps that link, so no spawned task is lost, run twice or run out of order, and
# every slot comes back to the free list. Each check runs on the viper tick (what tick() runs
# here) and on the native one (fastpath.tick_fifo: an executor worker's, every FIFO tick on the
# RP2040).
from shimeji import StaticScheduler, TaskSlot, yield_now
from shimeji.sched import fastpath
from support import raises

TICKS = (lambda s: s.tick(), lambda s: fastpath.tick_fifo(s, 64))


async def note(log, name, value=None):
    log.append(name)
    return value


def _free_chain(s):
    out = []
    slot = s._free_head
    while slot is not None:
        out.append(slot)
        slot = slot.run_next
    return out


def test_a_spawn_list_links_to_the_free_top_and_runs_in_call_order():
    for tick in TICKS:
        _spawn_list(tick)


def _spawn_list(tick):
    s = StaticScheduler(8)
    log = []
    seen = []
    mine = TaskSlot()  # caller-owned: its run_next is left on the task after it in a ring
    for name in ("m", "z", "y"):
        if name == "m":
            s.spawn_allocated(mine, note(log, name))
        else:
            s.spawn(note(log, name))
    tick(s)

    async def parent():
        for name in ("a", "b", "c"):
            s.spawn(note(log, name))
            seen.append(s._local_tail.run_next is s._free_head)
        s.spawn(note(log, "named"), "named")  # _start: the same list, linked by hand
        seen.append(s._local_tail.run_next is s._free_head)
        s.spawn(note(log, "d"))
        seen.append(s._local_tail.run_next is s._free_head)
        s.spawn_allocated(mine, note(log, "mine"))  # _start links it to the free list's top
        seen.append(s._local_tail.run_next is s._free_head)
        s.spawn(note(log, "e"))
        seen.append(s._local_tail.run_next is s._free_head)
        await yield_now()
        log.append("parent")

    s.spawn(parent())
    while tick(s).has_remaining:
        pass
    assert seen == [True] * 7, seen
    assert log == ["m", "z", "y", "a", "b", "c", "named", "d", "mine", "e", "parent"], log
    assert s.free_count() == 8 and len(set(_free_chain(s))) == 8
    assert s.live_count() == 0


def test_a_completion_with_a_value_after_in_line_spawns_keeps_them_queued():
    # The parent's last poll spawns in line, then it returns a value: StaticScheduler._complete
    # puts its slot on the free list while the spawn list waits for the tick's next look.
    for tick in TICKS:
        _value_after_spawns(tick)


def _value_after_spawns(tick):
    s = StaticScheduler(6)
    log = []

    async def parent(k):
        for i in range(k):
            s.spawn(note(log, "%d.%d" % (k, i)))
        return k

    async def main():
        got = []
        for k in (1, 2, 3):
            got.append(await s.spawn(parent(k)))
            s.spawn(note(log, "after %d" % k))  # the in-line case again, on the freed slots
        await yield_now()
        return got

    h = s.spawn(main())
    while tick(s).has_remaining:
        pass
    assert h.result() == [1, 2, 3]
    assert log == ["1.0", "after 1", "2.0", "2.1", "after 2", "3.0", "3.1", "3.2", "after 3"], log
    assert s.free_count() == 6 and len(set(_free_chain(s))) == 6


def test_ctrl_c_in_a_poll_leaves_the_ring_and_the_free_list_whole():
    # The interrupted task is recorded once it is out of the ring (its completion reuses the
    # link): the tasks queued behind it, and what it spawned first, run at the next tick.
    for tick in TICKS:
        _interrupted(tick)


def _interrupted(tick):
    s = StaticScheduler(8)
    log = []

    async def stopper():
        s.spawn(note(log, "spawned"))
        raise KeyboardInterrupt

    s.spawn(note(log, "first"))
    h = s.spawn(stopper())
    for name in ("x", "y"):
        s.spawn(note(log, name))
    with raises(KeyboardInterrupt):
        tick(s)
    assert h.is_cancelled()
    while tick(s).has_remaining:
        pass
    assert log == ["first", "x", "y", "spawned"], log
    assert s.free_count() == 8 and len(set(_free_chain(s))) == 8
    assert s.live_count() == 0
