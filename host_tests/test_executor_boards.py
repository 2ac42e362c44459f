"""What the executor does for the boards' thread limits: on the rp2 port (RP2040) a thread's
stack comes from the GC heap and only core 1 runs a second thread; everywhere, a worker thread
that cannot start leaves the executor closed and nothing waiting."""

from shimeji import (
    BadArgument,
    Executor,
    IrqCriticalSection,
    LockCriticalSection,
    NoThreads,
    yield_now,
)
from shimeji.executor import executor as executor_module
from shimeji.executor import threads
from support import (
    IS_MICROPYTHON,
    micropython_only,
    needs_extra_threads,
    needs_thread_module,
    needs_threads,
    raises,
    wait_until,
)
from synchelp import StateMachine


class _NoThread(Executor):
    def _start_thread(self, _thread, worker):
        raise MemoryError("memory allocation failed, allocating 4096 bytes")


@needs_thread_module  # an Executor, whose thread never starts
def test_a_worker_thread_that_cannot_start_closes_the_executor_and_main_never_runs():
    from shimeji.sched.foreign import shield

    ran = []
    depth = shield.depth

    async def main():
        ran.append(True)
        await yield_now()

    ex = _NoThread(workers=2, capacity=4)
    coro = main()
    with raises(MemoryError, "4096"):
        ex.run(coro)
    assert ran == [] and ex.closed and ex._threads == 0 and shield.depth == depth
    assert all(w.live_count() == 0 for w in ex.workers)


@needs_thread_module  # an Executor, driven on this thread
def test_on_rp2_a_stack_hole_is_kept_until_start_and_more_than_two_workers_are_refused():
    executor_module._RP2 = True
    try:
        assert len(Executor(workers=2, capacity=2)._stack_hole) >= 4096
        assert Executor(workers=1, capacity=2)._stack_hole is None
        ex = Executor(workers=4, capacity=2)
        with raises(BadArgument, "workers=4") as r:
            ex.start()
        assert "core 1" in str(r.value) and "workers=2" in str(r.value)
        assert ex._threads == 0
        ex.close()
        ex.join()
    finally:
        executor_module._RP2 = executor_module.sys.platform == "rp2"


@needs_threads  # worker 1 runs on its own thread
def test_on_rp2_the_hole_is_given_up_when_the_threads_start_and_the_run_completes():
    executor_module._RP2 = True
    try:
        ex = Executor(workers=2, capacity=8)
        assert ex._stack_hole is not None

        async def child(i):
            await yield_now()
            return i

        async def main():
            assert ex._stack_hole is None
            out = []
            for h in [ex.spawn(child(i)) for i in range(6)]:
                out.append(await h)
            return out

        assert ex.run(main()) == list(range(6))
        assert ex._threads == 0
    finally:
        executor_module._RP2 = executor_module.sys.platform == "rp2"


@needs_thread_module  # a LockCriticalSection is made of a _thread lock
def test_on_rp2_a_critical_section_other_than_disable_irq_is_refused():
    executor_module._RP2 = True
    try:
        with raises(BadArgument, "critical_section=LockCriticalSection") as r:
            Executor(workers=2, capacity=2, critical_section=LockCriticalSection())
        assert "IrqCriticalSection" in str(r.value) and "deadlock" in str(r.value)
        cs = IrqCriticalSection(StateMachine())
        ex = Executor(workers=2, capacity=2, critical_section=cs)
        assert ex.critical_section is cs and not ex.closed
        ex.close()
        ex.join()
    finally:
        executor_module._RP2 = executor_module.sys.platform == "rp2"


@micropython_only  # CPython's _thread.stack_size refuses less than 32 KB
@needs_thread_module  # it reads _thread.stack_size (the STM32 and qemu firmware have none)
def test_on_rp2_core_1_gets_an_8_kb_stack():
    import _thread

    sizes = []

    class _Recording(Executor):
        def _start_thread(self, _thread, worker):
            sizes.append(_thread.stack_size())  # what start() set (and back to the default)
            raise MemoryError("no thread in this test")

    async def main():
        await yield_now()

    before = _thread.stack_size()
    executor_module._RP2 = executor_module._CORE1_STACK = True
    try:
        ex = _Recording(workers=2, capacity=2)
        assert len(ex._stack_hole) >= 8192 + 1024
        with raises(MemoryError, "no thread"):
            ex.run(main())
        assert sizes == [8192] and ex.closed
    finally:
        _thread.stack_size(before)
        executor_module._RP2 = executor_module._CORE1_STACK = (
            executor_module.sys.platform == "rp2")


@needs_thread_module  # an Executor, whose thread cannot start
def test_a_thread_that_cannot_start_raises_no_threads_saying_what_to_do():
    class _NoStack(Executor):
        def _start_thread(self, _thread, worker):
            raise OSError("can't create thread")  # the ESP32 port, no stack fits

    async def main():
        await yield_now()

    ex = _NoStack(workers=2, capacity=4)
    with raises(NoThreads, "worker 1") as r:
        ex.run(main())
    assert "can't create thread" in str(r.value) and "fewer workers" in str(r.value)
    assert ex.closed and ex._threads == 0


def _run_children(ex, n):
    async def child(i):
        await yield_now()
        return i

    async def main():
        out = []
        for h in [ex.spawn(child(i)) for i in range(n)]:
            out.append(await h)
        return out

    return ex.run(main())


@needs_extra_threads(2)  # workers 1 and 2 on parked threads
def test_on_esp32_worker_threads_start_before_the_slots_and_are_kept_for_the_next_executor():
    # ESP32: a thread's stack comes from ESP-IDF's heap, which MicroPython's heap grows into
    # as the slots are made; so Executor() starts its threads first, parked, and they serve
    # the next Executor too (executor/threads.py).
    was = threads.PARK
    threads.PARK = True
    try:
        idle = threads.idle_count()
        made = threads.made
        ex = Executor(workers=3, capacity=8)
        assert threads.idle_count() == max(idle, 2)  # started by the constructor
        assert threads.made == made + max(0, 2 - idle)
        assert _run_children(ex, 12) == list(range(12))
        assert ex.errors == [] and ex._threads == 0
        assert threads.idle_count() == max(idle, 2)  # parked again before join() returned
        made = threads.made
        for _ in range(3):  # the same two threads, again and again
            assert _run_children(Executor(workers=3, capacity=8), 6) == list(range(6))
        assert threads.made == made and threads.idle_count() == max(idle, 2)
    finally:
        threads.PARK = was


@needs_extra_threads(2)  # workers 1 and 2 on parked threads
def test_join_returns_once_every_parked_thread_it_used_has_wiped_after_its_worker():
    # A parked thread gives its worker back (the executor sees it end) before it wipes or
    # scrubs its stack; a collection in that gap found the worker on the stack and kept the
    # executor (36 KB on the ESP32-C3, tools/heapwhy.py). join() waits for the wipe.
    was = threads.PARK
    threads.PARK = True
    try:
        for _ in range(3):
            ex = Executor(workers=3, capacity=8)
            assert _run_children(ex, 6) == list(range(6))
            assert ex._tickets == []
            for p in threads._idle:  # every job handed to a parked thread is over and wiped
                assert p.settled == p.given and p.job is None, (p.settled, p.given)
    finally:
        threads.PARK = was


@needs_thread_module
def test_threads_are_parked_on_esp32_only():
    import sys

    assert threads.PARK == (sys.platform == "esp32")
    assert threads.WIPE == (threads.PARK and "ESP32C3" in sys.implementation._machine)
    idle = threads.idle_count()
    made = threads.made
    Executor(workers=3, capacity=2).close()  # never started
    if threads.PARK:  # two parked threads wait for it (or the next Executor)
        assert threads.idle_count() == max(idle, 2)
    else:  # none started (those an earlier test parked stay parked)
        assert (threads.idle_count(), threads.made) == (idle, made)


class _FakeThreadModule:
    """``_thread``'s stack_size and start_new_thread, recording the size each start saw."""

    def __init__(self, size):
        self.size = size
        self.starts = []

    def stack_size(self, n=None):
        old = self.size
        if n is not None:
            self.size = n
        return old

    def start_new_thread(self, fn, args):
        self.starts.append((fn, args, self.size))


def test_on_xtensa_shimejis_threads_start_with_an_8_kb_stack_and_the_size_is_put_back():
    # The classic ESP32's worker threads overflowed the port's 5 KB (4 KB for Python) in a
    # wake from a task and in a spawn from a feeding thread (docs/boards.md, session 15)
    import sys

    arch = (getattr(sys.implementation, "_mpy", 0) >> 10) & 15
    assert threads.XTENSA == (threads.PARK and arch in (9, 10))
    was = threads.XTENSA, threads.PARK, threads._lock
    fake = _FakeThreadModule(4096)  # a size the program set: kept for its own threads
    threads.XTENSA, threads.PARK, threads._lock = True, False, None
    try:
        assert threads.start_on_thread(fake, print, 1) is None  # no parked one: a new thread
        threads.XTENSA = False
        threads.start_on_thread(fake, print, 2)
    finally:
        threads.XTENSA, threads.PARK, threads._lock = was
    assert fake.starts == [(print, (1, None), 8192), (print, (2, None), 4096)]
    assert fake.size == 4096 and threads.XTENSA_STACK == 8192


class _FakeMem:
    """machine.mem32 over a dict: reads give what was written, else ``fill``; writes listed."""

    def __init__(self, words, fill=0x11111111):
        self.words = dict(words)
        self.fill = fill
        self.writes = []

    def __getitem__(self, addr):
        return self.words.get(addr, self.fill)

    def __setitem__(self, addr, value):
        self.writes.append((addr, value))
        self.words[addr] = value


class _Stand:
    def __init__(self, **kw):
        for k in kw:
            setattr(self, k, kw[k])


def _wipe_with(words, used=700):
    saved = threads.machine, threads._thread, threads.micropython
    mem = _FakeMem(words)
    threads.machine = _Stand(mem32=mem)
    threads._thread = _Stand(get_ident=lambda: 0x1000)
    threads.micropython = _Stand(stack_use=lambda: used)
    try:
        return threads._wipe(), mem.writes
    finally:
        threads.machine, threads._thread, threads.micropython = saved


def test_a_parked_thread_fills_its_stack_below_its_frames_with_freertos_fill_word():
    # The C3: the bounds from the task's control block (the handle is _thread.get_ident()):
    # pxStack at +0x30, MicroPython's thread state (first word: the stack top) at +0x54.
    # (a 2,000 B stack: 190 writes listed; 4,800 B listed 890, and the list's 7,352 B did not
    # fit the qemu board's heap in one piece: MemoryError there, session 16)
    stack, state = 0x8000, 0x8000 + 2000
    top = state + 36
    done, writes = _wipe_with({0x1030: stack, 0x1054: state, state: top})
    assert done is True
    end = top - 700 - 512  # the frames stack_use() saw, and a margin under them, untouched
    assert [a for a, _ in writes] == list(range(stack + 64, end, 4))  # the canary stays too
    assert {v for _, v in writes} == {0xA5A5A5A5}
    # a block that does not look as expected: nothing written, and _scrub does the work
    for words in ({0x1030: stack, 0x1054: stack - 4, stack - 4: top},  # state off the stack
                  {0x1030: stack, 0x1054: state, state: state},  # top not above the state
                  {0x1030: stack, 0x1054: state, state: state + 4096}):  # top too far
        assert _wipe_with(words) == (False, [])
    assert _wipe_with({0x1030: stack, 0x1054: stack + 800, stack + 800: stack + 832},
                      used=300) == (False, [])  # no room below the frames


def _on_the_c3(fn):
    if threads.WIPE:
        return needs_threads(fn)
    why = "the ESP32-C3's FreeRTOS task control block (threads.WIPE is off here)"
    if IS_MICROPYTHON:
        from support import _Skipped

        return _Skipped(fn, why)
    import pytest

    return pytest.mark.skip(reason=why)(fn)


@_on_the_c3  # a thread of its own: its thread state is on its stack
def test_on_the_c3_a_thread_can_wipe_its_stack_and_the_main_thread_cannot():
    import _thread

    got = []
    _thread.start_new_thread(lambda: got.append(threads._wipe()), ())
    wait_until(lambda: got, "the thread to wipe its stack")
    assert got == [True]
    assert threads._wipe() is False  # the main task's thread state is static, not on a stack
