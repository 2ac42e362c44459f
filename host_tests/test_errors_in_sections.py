"""Refusals while a critical section is held make nothing inside it (docs/sync.md, "Errors").

Session 22's two-core hang was an allocation inside the executor's section: core 1 held it and
waited for the GC's mutex, core 0 held that mutex and its interrupt waited for the section. A
refusal made there allocates the same way (the error, its message). So each refusal that can
happen while a section is held is made elsewhere: where shimeji holds the section it decides
inside and raises after leaving; where the *caller* holds it (a spawn from inside it, a lock
taken twice, ``with`` nested too deep) it raises an error made beforehand, from native code.

Shown three ways: with the heap locked while the section is held (heaplocked.py: MicroPython),
where an error made inside would be a ``MemoryError``; with the bytes allocated inside counted
(``solo``: the unix port's ``mem_total``), where the caught error passes only native frames;
and on CPython with every ``ShimejiError`` made while the section is held recorded
(``_Watch``). Each test also shows the section free afterwards (another thread takes it) and
that what was refused is not lost: the tasks run, the queued items are all there.
"""

from heaplocked import MEM_TOTAL, HeapLockedSection
from shimeji import (
    Cancelled,
    Event,
    Executor,
    InterruptScheduler,
    PoolFull,
    ShimejiError,
    SlotBusy,
    TaskSlot,
    WrongLevel,
    errors,
    yield_now,
)
from shimeji.errors import CriticalSectionMisuse, LockNotHeld
from shimeji.sync.blocking import CriticalSectionRawMutex
from shimeji.sync.blocking import Mutex as BlockingMutex
from shimeji.sync.critical import MAX_DEPTH
from support import (
    IS_MICROPYTHON,
    micropython_only,
    needs_extra_threads,
    needs_thread_module,
    start_thread,
    wait_until,
)

micropython = __import__("micropython")  # (under CPython: the stand-in shimeji installed)


async def _value(v):
    await yield_now()
    return v


async def _until(ev):
    await ev.wait()
    return "set"


@micropython.native  # (a native frame adds no traceback entry: what is counted is shimeji's)
def _refused(fn, a=None, b=None):
    # The error ``fn(a, b)`` (or fewer arguments) raised, or None; never a new object here.
    try:
        if a is None:
            fn()
        elif b is None:
            fn(a)
        else:
            fn(a, b)
    except BaseException as e:  # noqa: BLE001 (what it raised is the subject)
        return e
    return None


def _raise():
    raise KeyError


_refused(_raise)  # (the VM's first caught exception allocates once, 192 B: not in a section)


class _Watch:
    """Records the class of every ``ShimejiError`` (and ``Cancelled``) made while ``cs`` is
    held by this thread, by wrapping their ``__init__`` (restored by ``close``)."""

    def __init__(self, cs, classes=(ShimejiError, Cancelled)):
        self.cs = cs
        self.inside = [None] * 8
        self.n = 0
        self._saved = []
        if IS_MICROPYTHON:  # (a class of MicroPython's has no __init__ to wrap: there the
            return  # locked heap and mem_total show it)
        for cls in classes:
            init = cls.__init__
            self._saved.append((cls, init))
            cls.__init__ = self._wrap(init)

    def _wrap(self, init):
        def __init__(err, *args):
            if self.cs.held() and self.n < 8:
                self.inside[self.n] = type(err).__name__
                self.n += 1
            init(err, *args)

        return __init__

    def close(self):
        for cls, init in self._saved:
            cls.__init__ = init
        return self.inside[: self.n]


def _section():
    return HeapLockedSection(solo=MEM_TOTAL)  # (solo: counts; else locked on MicroPython)


def _check(cs, watch, entries):
    assert watch.close() == [], "made while the section was held"
    assert cs.check_balanced() >= entries  # every entry left; solo: nothing allocated inside


def _taken_by_another_thread(cs):
    got = []

    def other():
        state = cs.try_enter()
        got.append(state is not None)
        if state is not None:
            cs.exit(state)

    start_thread(other)
    wait_until(lambda: got, "another thread to try the section")
    return got[0]


@needs_extra_threads(1)  # the thread that takes the section afterwards
def test_a_spawn_from_inside_the_executors_section_is_refused_with_an_error_made_before():
    cs = _section()
    ex = Executor(workers=2, capacity=8, critical_section=cs)
    coros = [_value(i) for i in range(4)]
    slot = TaskSlot()
    # (bound methods and the list made first: the test's own allocations stay outside)
    spawns = (ex.spawn, ex.spawn_detached, ex.workers[0].spawn, ex.workers[1].spawn_detached)
    allocated = ex.workers[0].spawn_allocated
    got = [None] * 5
    watch = _Watch(cs)
    state = cs.enter()
    for i in range(4):
        got[i] = _refused(spawns[i], coros[i])
    got[4] = _refused(allocated, slot, coros[0])
    cs.exit(state)
    _check(cs, watch, 1)
    assert [type(e) for e in got] == [WrongLevel] * 5, got
    assert "critical section" in str(got[0]) and "micropython.schedule" in str(got[0])
    assert _taken_by_another_thread(cs)
    ex.spawn_detached(_value(9))  # outside: spawns, and makes the raised refusal again
    state = cs.enter()
    again = _refused(spawns[0], coros[0])
    cs.exit(state)
    assert type(again) is WrongLevel and again is not got[0]  # (its traceback did not grow)
    # nothing lost: the refused coroutines are still the caller's, and spawn as before
    hs = [ex.spawn(coros[0]), ex.workers[1].spawn(coros[2]),
          ex.workers[0].spawn_allocated(slot, coros[3])]
    ex.spawn_detached(coros[1])

    async def main():
        out = []
        for h in hs:
            out.append(await h)
        return out

    assert ex.run(main()) == [0, 2, 3]


@needs_extra_threads(1)
def test_with_nested_too_deep_is_refused_inside_the_outer_sections_with_an_error_made_before():
    cs = _section()
    enter = cs.__enter__  # (bound first: made inside, it would be the test's allocation)
    watch = _Watch(cs)
    for _ in range(MAX_DEPTH):
        enter()
    e = _refused(enter)
    still = cs.held()
    for _ in range(MAX_DEPTH):
        cs.__exit__(None, None, None)
    _check(cs, watch, MAX_DEPTH + 1)
    assert type(e) is CriticalSectionMisuse and "nested more than 8 deep" in str(e), e
    assert still and not cs.held() and _taken_by_another_thread(cs)
    with cs:  # and it nests again as before
        with cs:
            assert cs.held()


@needs_extra_threads(1)
def test_a_blocking_mutex_locked_twice_is_refused_inside_its_section():
    cs = _section()
    m = BlockingMutex([], raw=CriticalSectionRawMutex(cs))
    lock = m.lock
    watch = _Watch(cs)
    lock()
    e = _refused(lock)
    m.unlock()
    _check(cs, watch, 2)
    assert type(e) is CriticalSectionMisuse and "not re-entrant" in str(e), e
    assert not m.is_locked() and _taken_by_another_thread(cs)
    assert m.with_lock(lambda v: v.append(1) or len(v)) == 1  # works as before


@needs_thread_module
def test_unlocking_a_blocking_mutex_with_the_heap_locked_raises_lock_not_held():
    # What an interrupt handler that unlocks a free mutex meets: a locked heap.
    m = BlockingMutex(0, raw=CriticalSectionRawMutex(_section()))
    unlock = m.unlock
    if IS_MICROPYTHON:
        micropython.heap_lock()
    try:
        e = _refused(unlock)
    finally:
        if IS_MICROPYTHON:
            micropython.heap_unlock()
    assert type(e) is LockNotHeld and "not locked" in str(e), e
    assert m.with_lock(lambda v: v + 1) == 1


def _filled_level(capacity=2):
    # An interrupt-level scheduler on a heap-locked section, its pool full of waiting tasks.
    cs = HeapLockedSection()
    isr = InterruptScheduler(capacity, critical_section=cs)
    ev = Event(critical_section=cs)
    hs = [isr.spawn(_until(ev)) for _ in range(capacity)]
    isr.service()
    return cs, isr, ev, hs


@needs_thread_module  # (its section: a lock, heap-locked while held)
def test_an_interrupt_level_spawn_refused_for_a_full_pool_or_a_busy_slot_makes_it_outside():
    cs, isr, ev, hs = _filled_level()
    watch = _Watch(cs)
    coro = _until(ev)
    full = _refused(isr.spawn, coro)
    mine = TaskSlot()
    h = isr.spawn_allocated(mine, _until(ev))
    extra = _until(ev)
    busy = _refused(isr.spawn_allocated, mine, extra)
    extra.close()  # (refused: still the caller's)
    assert watch.close() == []
    assert type(full) is PoolFull and "task slots hold live tasks" in str(full), full
    assert type(busy) is SlotBusy and "holds a live task" in str(busy), busy
    assert not cs.held()
    ev.set()
    isr.service()
    assert [x.result() for x in hs + [h]] == ["set"] * 3  # nothing lost
    assert isr.run_until_complete(coro) == "set"  # the refused coroutine, spawned now
    assert cs.check_balanced() > 4


@needs_thread_module  # (its section: a lock, heap-locked while held)
def test_an_interrupt_level_spawn_in_grow_mode_makes_its_new_slot_outside_the_section():
    # It made the slot (a TaskSlot, its JoinList, the longer list) inside: a MemoryError on a
    # locked heap, the two-core hang's pattern on an RP2040 (session 23's "left").
    cs, isr, ev, hs = _filled_level()
    isr.grow = True
    coros = [_until(ev), _until(ev)]
    watch = _Watch(cs, (ShimejiError, Cancelled, TaskSlot))
    more = [isr.spawn(coros[0]), isr.spawn(coros[1], "named")]
    assert watch.close() == [], "made while the section was held"
    assert isr.grown == 2 and len(isr.slots) == 4 and not cs.held()
    ev.set()
    isr.service()
    assert [h.result() for h in hs + more] == ["set"] * 4  # nothing lost
    assert isr.run_until_complete(_value(7)) == 7 and isr.grown == 2  # its slots reused
    assert cs.check_balanced() > 4


@needs_thread_module
def test_cancelling_an_interrupt_level_task_makes_its_cancelled_outside_the_section():
    cs, isr, ev, hs = _filled_level()
    watch = _Watch(cs)
    assert hs[0].cancel() is True  # (its Cancelled was made inside: MemoryError, locked)
    assert watch.close() == []
    isr.service()
    e = _refused(hs[0].result)
    assert type(e) is Cancelled, e
    ev.set()
    isr.service()
    assert hs[1].result() == "set" and not cs.held()
    assert cs.check_balanced() > 4


@micropython_only  # (CPython's tracebacks are objects of their own: nothing to show)
@needs_thread_module  # an Executor and its lock-based section
def test_a_refusal_raised_into_a_bytecode_frame_holding_the_section_adds_its_entry_there():
    # MicroPython appends a traceback entry for every bytecode frame an exception leaves, and
    # never clears one: a premade refusal caught in the caller's own bytecode frame (here
    # inside the section) gets that frame's entry. On a locked heap (an interrupt handler)
    # the entry goes where there is room, else it is skipped: nothing allocated; on a free
    # heap it is one block (docs/sync.md, "Refusals inside a section").
    import gc

    cs = HeapLockedSection()
    cs.lock = cs.solo = False  # (the heap locked, or not, by the test itself)
    ex = Executor(workers=2, capacity=8, critical_section=cs)
    coro = _value(1)
    spawn = ex.spawn

    def caller(lock):
        got = None
        state = cs.enter()
        if lock:
            micropython.heap_lock()
        before = gc.mem_alloc()
        try:
            spawn(coro)
        except WrongLevel as e:
            got = e
        grew = gc.mem_alloc() - before
        if lock:
            micropython.heap_unlock()
        cs.exit(state)
        return got, grew

    locked, grew_locked = caller(True)
    ex.spawn_detached(_value(2))  # outside: the raised refusal is made again
    free, grew_free = caller(False)
    assert type(locked) is WrongLevel and type(free) is WrongLevel and free is not locked
    assert grew_locked == 0 and 0 < grew_free <= 32, (grew_locked, grew_free)
    coro.close()
    assert not cs.held() and _free_of_locks()
    ex.close()  # (no worker ran: on one emulated RP2040 core none can; join shuts them down)
    ex.join()


def _free_of_locks():
    # The heap is not left locked by the test (its own heap_lock calls are balanced).
    try:
        made = [0] * 4
    except MemoryError:
        return False
    return len(made) == 4


def test_every_premade_refusal_is_made_again_only_after_it_was_raised():
    made = errors.premade(WrongLevel, "what to do")
    first = made[0]
    errors.renew(made)  # not raised: kept
    assert made[0] is first and made[1] is False
    made[1] = True  # raised
    errors.renew(made)
    assert made[0] is not first and type(made[0]) is WrongLevel
    assert str(made[0]) == "what to do" and made[1] is False
