# A critical section's exit is certain: an exception inside one (a wake that fails, a trace
# clock that raises, a MemoryError) never leaves it held, and nothing waiting is lost.
import time

from shimeji import (
    Channel,
    Event,
    InterruptScheduler,
    LockHeldBySelf,
    Mutex,
    RoundRobinPolicy,
    RwLock,
    Semaphore,
    StaticScheduler,
    Trace,
    WaitCell,
    WaitMap,
    WaitQueue,
    core,
    port,
    yield_now,
)
from support import (
    HAS_THREADS,
    IS_MICROPYTHON,
    cpython_only,
    heap_locked,
    micropython_only,
    needs_threads,
    raises,
)
from support import thread_section as _section
from synchelp import drain


class Boom(Exception):
    pass


def _pause():
    if IS_MICROPYTHON:
        time.sleep_ms(1)
    else:
        time.sleep(0.001)


def _free(cs):
    """The section is not held here, and another thread enters it at once (a bounded wait:
    ``try_enter`` never blocks)."""
    assert not cs.held()
    if not HAS_THREADS:
        return
    import _thread

    got = []

    def other():
        for _ in range(2000):
            st = cs.try_enter()
            if st is not None:
                cs.exit(st)
                got.append(True)
                return
            _pause()
        got.append(False)

    _thread.start_new_thread(other, ())
    for _ in range(5000):
        if got:
            break
        _pause()
    assert got == [True], "another thread could not enter the section"


class _FailingWake:
    """Replaces ``core.wake`` (what every primitive calls inside its section): raises for the
    slots in ``fail`` (each once), wakes the others."""

    def __init__(self, *fail):
        self.fail = list(fail)
        self.real = core.wake

    def __enter__(self):
        core.wake = self
        return self

    def __exit__(self, *exc):
        core.wake = self.real
        return False

    def __call__(self, slot):
        if slot in self.fail:
            self.fail.remove(slot)
            raise Boom("wake failed")
        self.real(slot)


async def _waiter(prim, log, name):
    await prim.wait()
    log.append(name)


def _slot(handle):
    return handle._live_slot()


def test_waitcell_wake_that_raises_leaves_the_section_and_the_waiter_waiting():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_waiter(cell, log, "a"))
    drain(s)
    with _FailingWake(_slot(h)):
        with raises(Boom):
            cell.wake()
    _free(cs)
    assert cell.waiter is _slot(h) and not cell.pending  # the wake did not happen
    drain(s)
    assert log == []
    assert cell.wake() is True  # called again, it reaches the task
    drain(s)
    assert log == ["a"]


def test_waitqueue_wake_all_that_raises_midway_loses_no_waiter():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    q = WaitQueue(cs)
    log = []
    hs = [s.spawn(_waiter(q, log, n)) for n in ("a", "b", "c")]
    drain(s)
    with _FailingWake(_slot(hs[1])):
        with raises(Boom):
            q.wake_all()
    _free(cs)
    assert q.count == 2  # b (back at the head) and c still wait
    drain(s)
    assert log == ["a"]
    assert q.wake_all() == 2
    drain(s)
    assert log == ["a", "b", "c"]


def test_event_set_and_close_that_raise_leave_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ev = Event(cs)
    log = []
    h = s.spawn(_waiter(ev, log, "a"))
    drain(s)
    with _FailingWake(_slot(h), _slot(h)):
        with raises(Boom):
            ev.set()
        _free(cs)
        with raises(Boom):
            ev.close()
    _free(cs)
    assert ev.waiters() == 1
    ev.set()
    drain(s)
    assert log == ["a"]


async def _acquirer(sem, log, name):
    await sem.acquire(1)
    log.append(name)


def test_semaphore_release_that_raises_keeps_every_permit():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    sem = Semaphore(0, critical_section=cs)
    log = []
    h = s.spawn(_acquirer(sem, log, "a"))
    drain(s)
    with _FailingWake(_slot(h)):
        with raises(Boom):
            sem.release(1)
    _free(cs)
    assert sem._permits == 1 and sem._q.count == 1  # released, not handed: nothing lost
    assert not sem.try_acquire(1)  # the waiter is first in line for it
    s.spawn(_acquirer(sem, log, "b"))  # the next acquire hands the waiter its permit first
    drain(s)
    assert log == ["a"] and sem._permits == 0 and sem._q.count == 1  # b waits
    sem.release(1)
    drain(s)
    assert log == ["a", "b"] and sem._permits == 0


async def _locker(m, log, name, hold=None):
    async with m:
        log.append(name)
        if hold is not None:
            await hold.wait()


def test_mutex_unlock_whose_hand_off_raises_leaves_the_lock_free_and_the_waiter_first():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    m = Mutex(cs)
    gate = Event(cs)
    log = []
    holder = s.spawn(_locker(m, log, "holder", gate))
    h = s.spawn(_locker(m, log, "waiter"))
    drain(s)
    assert log == ["holder"]
    with _FailingWake(_slot(h)):
        gate.set()
        drain(s)  # the holder's unlock raises, in the holder
    _free(cs)
    with raises(Boom):
        holder.result()
    assert not m.locked() and m._q.count == 1
    s.spawn(_locker(m, log, "later"))  # the next lock() hands it to the waiter first
    drain(s)
    assert log == ["holder", "waiter", "later"] and not m.locked()


async def _receiver(ch, log):
    log.append(await ch.recv())


def test_channel_send_whose_receiver_wake_raises_keeps_the_item():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ch = Channel(2, critical_section=cs)
    log = []
    h = s.spawn(_receiver(ch, log))
    drain(s)
    with _FailingWake(_slot(h)):
        with raises(Boom):
            ch.try_send("x")
    _free(cs)
    assert ch._count == 0 and ch._items_held == 0  # not sent: send again
    assert ch._receivers.count == 1  # the receiver still waits
    assert ch.try_send("x")
    drain(s)
    assert log == ["x"] and ch.try_recv() is None


async def _sender(ch, item, log):
    await ch.send(item)
    log.append(item)


def test_channel_recv_whose_sender_wake_raises_keeps_the_item():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    ch = Channel(1, critical_section=cs)
    log = []
    assert ch.try_send("a")
    h = s.spawn(_sender(ch, "b", log))  # the channel is full: it waits
    drain(s)
    with _FailingWake(_slot(h)):
        with raises(Boom):
            ch.try_recv()
    _free(cs)
    assert ch._count == 1 and ch._senders.count == 1  # nothing taken, the sender waits
    assert ch.try_recv() == "a"  # taken again: the sender is woken now
    drain(s)
    assert log == ["b"] and ch.try_recv() == "b"


def test_rwlock_self_deadlock_under_heap_lock_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    rw = RwLock(cs)
    out = []

    async def twice():
        async with rw.write():
            try:
                await rw.read()
            except LockHeldBySelf as e:
                out.append(type(e))
            except MemoryError as e:  # under heap_lock: the message is made outside
                out.append(type(e))

    s.spawn(twice())
    if IS_MICROPYTHON:
        heap_locked(drain, s)
    else:
        drain(s)
    _free(cs)
    assert out and out[0] in (LockHeldBySelf, MemoryError)
    assert not rw._writing


class _Clock:
    def __init__(self):
        self.t = 0
        self.fail = False

    def __call__(self):
        if self.fail:
            self.fail = False
            raise Boom("clock failed")
        self.t += 1
        return self.t


async def _cell_waiter(cell, log):
    await cell.wait()
    log.append("woke")


def test_traced_wake_whose_record_raises_still_wakes_and_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    clock = _Clock()
    tr = Trace(32, clock_us=clock)  # a few records: the default 512 (8 KB) did not fit the
    tr.attach(s)  # STM32L475's heap by this point of the module
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)
    clock.fail = True
    assert cell.wake() is True  # the side record is dropped: the wake itself went through
    _free(cs)
    with raises(Boom):
        tr.drain()  # the clock's exception, raised outside any section
    drain(s)
    assert log == ["woke"] and _slot(h) is None


def test_traced_wake_whose_record_call_overflows_the_stack_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    tr = Trace(32)  # (as above: 8 KB did not fit the STM32L475's heap here)
    tr.attach(s)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)

    def overflow(sched, slot):
        raise RuntimeError("maximum recursion depth exceeded")

    tr.wake_locked = overflow  # what a small core-1 stack did inside the section
    with raises(RuntimeError, "recursion"):
        cell.wake()
    del tr.wake_locked
    _free(cs)
    drain(s)  # queued before the record, the task runs, finds itself still the waiter
    assert log == [] and cell.waiter is _slot(h)  # (WaitCell took the wake back)
    assert cell.wake() is True
    drain(s)
    assert log == ["woke"]


@micropython_only
def test_no_section_is_left_held_by_a_memory_error_in_a_cancel():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    cell = WaitCell(cs)
    log = []
    h = s.spawn(_cell_waiter(cell, log))
    drain(s)
    try:
        heap_locked(h.cancel)
    except MemoryError:
        pass
    _free(cs)
    h.cancel()
    drain(s)
    assert log == [] and h.is_complete()


def test_a_wait_queue_callback_that_raises_leaves_the_section():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    calls = []

    def on_leave():
        calls.append("leave")
        raise Boom("on_leave failed")

    q = WaitQueue(cs, on_leave=on_leave)
    log = []
    h = s.spawn(_waiter(q, log, "a"))
    s.spawn(_waiter(q, log, "b"))
    drain(s)
    slot = _slot(h)
    with raises(Boom):
        q.remove(slot)  # what a cancellation of a waiter calls
    _free(cs)
    assert calls == ["leave"] and q.count == 1  # a left the queue before the callback
    slot.waiting_on = None  # (a left; the test stands in for its cancellation)
    q.wake_all()
    drain(s)
    assert log == ["b"]


def _library_files(top):
    import os

    for name in sorted(os.listdir(top)):
        path = top + "/" + name
        if name.endswith(".py"):
            yield path
        elif "." not in name:
            for sub in _library_files(path):
                yield sub


@cpython_only
def test_no_lock_acquire_in_the_library_passes_a_timeout():
    # MicroPython ignores acquire()'s timeout on every port (docs/sync.md): acquire() or
    # acquire(0) only; bounded waits are made of acquire(0) and sleeps.
    import os
    import re

    top = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "firmware", "shimeji")
    calls = []
    for path in _library_files(top):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                for args in re.findall(r"[._]acquire\(([^()]*)\)", line):
                    calls.append((path, n, args.strip()))
    assert len(calls) >= 6  # critical.py, blocking.py, the executor's bell
    for path, n, args in calls:
        parts = [a for a in args.split(",") if a.strip() and a.strip() != "self"]
        ok = len(parts) <= 1 and "timeout" not in args  # acquire(), acquire(0), sem.acquire(n)
        assert ok, "%s:%d acquire(%s): a timeout" % (path, n, args)


@micropython_only
def test_no_wake_path_runs_in_a_heap_frame():
    # A bytecode frame past 11 words goes on the heap for the call and is freed at its end:
    # gc.mem_alloc() before and after (alloc_delta) sees nothing, but each call costs a
    # gc_alloc (~3,600 instructions). A try adds to the frame, so the functions that have one
    # are native. Seen from inside the wake: the heap in use must be what it is when the wake
    # is called straight from a small function.
    import gc

    cs = _section()
    s = StaticScheduler(8, critical_section=cs)
    real = core.wake
    peak = [0]

    def probe(slot):
        m = gc.mem_alloc()
        if m > peak[0]:
            peak[0] = m
        real(slot)

    def seen(fn, a=None, b=None):
        gc.collect()
        gc.disable()
        core.wake = probe
        peak[0] = 0
        try:
            base = gc.mem_alloc()
            if a is None:
                fn()
            elif b is None:
                fn(a)
            else:
                fn(a, b)
        finally:
            core.wake = real
            gc.enable()
        return peak[0] - base

    cell, q, ev = WaitCell(cs), WaitQueue(cs), Event(cs)
    sem, ch = Semaphore(0, cs), Channel(2, cs)

    async def forever(p):
        while True:
            await p.wait()

    async def event_waiter():
        while True:
            await ev.wait()
            ev.clear()  # (set, the flag would let the loop run on without parking)

    async def acquire():
        while True:
            await sem.acquire(1)

    async def receive():
        while True:
            await ch.recv()

    h = s.spawn(forever(cell))
    for t in (forever(q), forever(q), event_waiter(), acquire(), receive()):
        s.spawn(t)
    drain(s)
    slot = _slot(h)

    def direct():
        probe(slot)

    ref = seen(direct)
    drain(s)
    got = {}
    for name, fn, a in (("WaitCell.wake", cell.wake, None), ("WaitQueue.wake", q.wake, None),
                        ("WaitQueue.wake_all", q.wake_all, None), ("Event.set", ev.set, None),
                        ("Semaphore.release", sem.release, 1),
                        ("Channel.try_send", ch.try_send, 1)):
        got[name] = seen(fn, a) - ref
        drain(s)
    assert got == dict((k, 0) for k in got), got


class _SectionCheckingPolicy(RoundRobinPolicy):
    """A pluggable policy that records every call made while the section is held: a policy
    is code the section cannot trust (it may raise)."""

    def __init__(self, cs):
        RoundRobinPolicy.__init__(self)
        self.cs = cs
        self.inside = []
        self.calls = 0

    def _note(self, what):
        self.calls += 1
        if self.cs.held():
            self.inside.append(what)

    def add(self, slot):
        self._note("add")
        return RoundRobinPolicy.add(self, slot)

    def pick(self):
        self._note("pick")
        return RoundRobinPolicy.pick(self)

    def remove(self, slot):
        self._note("remove")
        return RoundRobinPolicy.remove(self, slot)

    def has_ready(self):
        self._note("has_ready")
        return RoundRobinPolicy.has_ready(self)


def test_the_policy_is_asked_outside_the_section_at_either_level():
    cs = _section()
    log = []
    for make in (lambda p: StaticScheduler(4, policy=p, critical_section=cs),
                 lambda p: InterruptScheduler(4, policy=p, critical_section=cs)):
        policy = _SectionCheckingPolicy(cs)
        s = make(policy)
        cell = WaitCell(cs)

        async def waiter(cell):
            await cell.wait()
            log.append("woke")
            await yield_now()

        h = s.spawn(waiter(cell))
        for _ in range(3):
            port.check_point()  # (the interrupt level runs here)
            if not hasattr(s, "service"):
                drain(s)
        cell.wake()
        for _ in range(3):
            port.check_point()
            if hasattr(s, "service"):
                s.service()
            else:
                drain(s)
        assert h.is_complete(), type(s).__name__
        # Only the interrupt level's spawn adds its task inside its section (under a
        # finally); nothing asks the policy inside one (poll_all used to: has_ready).
        want = ["add"] if hasattr(s, "service") else []
        assert policy.calls > 3 and policy.inside == want, (type(s).__name__, policy.inside)
        _free(cs)
    assert log == ["woke", "woke"]


async def _map_waiter(wm, key, log):
    log.append(await wm.wait(key))


def test_waitmap_wake_that_raises_leaves_the_section_and_the_waiter_waiting():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    wm = WaitMap(cs)
    log = []
    h = s.spawn(_map_waiter(wm, 7, log))
    drain(s)
    with _FailingWake(_slot(h)):
        with raises(Boom):
            wm.wake(7, "v")
    _free(cs)
    assert wm.is_waiting(7)  # still the key's waiter
    _free(cs)
    assert wm.wake(7, "w") is True
    drain(s)
    assert log == ["w"]


def test_rwlock_write_unlock_whose_grant_raises_leaves_the_lock_free_for_the_readers():
    cs = _section()
    s = StaticScheduler(4, critical_section=cs)
    rw = RwLock(cs)
    gate = Event(cs)
    log = []

    async def writer():
        async with rw.write():
            log.append("w")
            await gate.wait()

    async def reader(name):
        async with rw.read():
            log.append(name)

    w = s.spawn(writer())
    h = s.spawn(reader("r1"))
    drain(s)
    with _FailingWake(_slot(h)):
        gate.set()
        drain(s)  # the writer's unlock raises, in the writer
    _free(cs)
    with raises(Boom):
        w.result()
    assert not rw._writing and rw._readers == 0 and rw._q.count == 1  # r1 still waits
    s.spawn(reader("r2"))  # the next acquire admits r1 first, then reads itself at once
    drain(s)
    assert log == ["w", "r2", "r1"] and not rw._writing and rw._readers == 0


def test_interrupt_level_traced_wake_whose_record_raises_leaves_the_section():
    cs = _section()
    isr = InterruptScheduler(4, critical_section=cs)
    tr = Trace(32)  # (as above: 8 KB did not fit the qemu firmware's heap either)
    tr.attach(isr)
    cell = WaitCell(cs)
    log = []
    h = isr.spawn(_cell_waiter(cell, log))
    port.check_point()
    isr.service()

    def overflow(sched, slot):
        raise RuntimeError("maximum recursion depth exceeded")

    tr.wake_locked = overflow
    with raises(RuntimeError, "recursion"):
        cell.wake()
    del tr.wake_locked
    _free(cs)
    assert cell.wake() is True  # (WaitCell took the failed wake back)
    for _ in range(3):
        port.check_point()
        isr.service()
    assert log == ["woke"] and h.is_complete()
    tr.detach()
    isr.close()


class _RaisingBell:
    def release(self):
        raise Boom("bell failed")


@needs_threads
def test_executor_ring_that_raises_leaves_the_section():
    from shimeji import Executor

    ex = Executor(workers=2, capacity=4)
    try:
        w = ex.workers[1]
        cs = ex.critical_section
        bell = w._bell
        w.sleeping = True
        ex.sleepers += 1
        w._bell = _RaisingBell()
        with raises(Boom):
            w.ring()
        w._bell = bell
        _free(cs)
        assert not w.sleeping and ex.sleepers == 0  # rung: its flag and count agree
    finally:
        ex.close()
