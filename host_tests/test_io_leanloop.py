# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# RunLoop.run()'s lean loop (sched/leanloop.py's run_lean) keeps the loop while tasks wait for
# I/O: its idle polls the poller and the woken task runs in its next tick, with no hand-back
# to iterate per wake. The same program gives the same events with and without it, and a
# wake cycle in it allocates nothing (heap_lock and a zero gc.mem_alloc delta).
from iohelp import close, tcp_pair
from shimeji import RunLoop, StaticScheduler, Timer, sleep_ms, wait_readable, yield_now
from shimeji.sched import leanloop, loopiter
from support import micropython_only, needs_run_lean


class Counting:
    """run_lean, counting its calls and answers (iterate reads the module's name per call)."""

    def __init__(self):
        self.calls = 0
        self.answers = []
        self.fn = leanloop.run_lean

    def __call__(self, loop, sched, until, live):
        self.calls += 1
        code = self.fn(loop, sched, until, live)
        self.answers.append(code)
        return code


def _program(fused):
    # Two readers on two sockets, a writer that waits (yielding) for each byte to be read and
    # then sleeps, and a task that yields: the wakes of the poll, the timer and the run queue
    # interleave, in an order that no clock decides (the yielder ends before the first sleep).
    s = StaticScheduler(8, timer=Timer())
    a1, b1 = tcp_pair()
    a2, b2 = tcp_pair()
    log = []
    buf = bytearray(8)
    read = [0]

    async def reader(name, b, n):
        for _ in range(n):
            await wait_readable(b)
            log.append((name, bytes(buf[:b.readinto(buf)])))
            read[0] += 1

    async def writer():
        for i in range(6):
            (a1 if i % 2 else a2).write(b"%d" % i)
            log.append(("wrote", i))
            while read[0] <= i:
                await yield_now()
            if i >= 2:
                await sleep_ms(1)
        return "done"

    async def yielder():
        for i in range(4):
            log.append(("yield", i))
            await yield_now()

    async def main():
        r1 = s.spawn(reader("r1", b1, 3))
        r2 = s.spawn(reader("r2", b2, 3))
        s.spawn(yielder())
        w = s.spawn(writer())
        await r1
        await r2
        return await w

    loop = RunLoop(s)
    counting = Counting()
    loopiter.run_lean = counting if fused else None
    try:
        result = loop.run(s.spawn(main()))
    finally:
        loopiter.run_lean = counting.fn
    close(a1, b1, a2, b2)
    return (result, log, s.completed_total), counting


@needs_run_lean
def test_a_program_waiting_for_io_gives_the_same_events_with_and_without_run_lean():
    fused, counting = _program(True)
    plain, _ = _program(False)
    assert fused == plain
    assert fused[0] == "done" and len(fused[1]) == 6 + 6 + 4
    # one call for the whole run: the waits for I/O handed nothing back to iterate
    assert counting.calls == 1 and counting.answers == [leanloop.UNTIL]


@micropython_only
def test_an_io_wake_cycle_in_run_lean_allocates_nothing():
    import gc

    import micropython

    s = StaticScheduler(4, timer=Timer())
    a, b = tcp_pair()
    buf = bytearray(8)
    got = [0]
    mem = [0, -1]
    locked = [False]

    async def reader():
        for i in range(43):
            if i == 3:  # warmed up: the entry, the ipoll tuple, the dispatch's functions
                gc.collect()
                gc.disable()
                mem[0] = gc.mem_alloc()
                micropython.heap_lock()
                locked[0] = True
            a.write(b"x")
            await wait_readable(b)
            got[0] += b.readinto(buf)
        micropython.heap_unlock()
        locked[0] = False
        mem[1] = gc.mem_alloc()

    loop = RunLoop(s)
    counting = Counting()
    loopiter.run_lean = counting
    try:
        loop.run(s.spawn(reader()))
    finally:
        loopiter.run_lean = counting.fn
        if locked[0]:
            micropython.heap_unlock()
        gc.enable()
        close(a, b)
    assert got[0] == 43 and mem[1] == mem[0]
    assert counting.calls == 1 and counting.answers == [leanloop.UNTIL]
