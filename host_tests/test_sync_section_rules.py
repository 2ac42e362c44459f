# Two rules the library's critical sections keep, read off its code: no lock acquire passes a
# timeout (MicroPython ignores it on every port; bounded waits are acquire(0) and sleeps), and
# no wake path that runs inside a section needs a heap-allocated bytecode frame.
from criticalhelp import live_slot
from shimeji import Channel, Event, Semaphore, StaticScheduler, WaitCell, WaitQueue, core
from support import cpython_only, micropython_only
from support import thread_section as _section
from synchelp import drain


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
    assert len(calls) >= 6  # locksection.py, blocking.py, the executor's bell
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
    slot = live_slot(h)

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
