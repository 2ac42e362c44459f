"""A traced worker allocates nothing inside the executor's critical section (issue 14): on two
RP2040 cores an allocation there waits for the GC's mutex, which core 0 may hold while an
interrupt of its waits for the section (test_executor_section_heap.py's module docstring;
docs/executor.md, "Session 22"). Measured with the solo section of heaplocked.py (the bytes
``micropython.mem_total()`` counts between entering and leaving), so the workers are driven
in turn on this thread."""

# First, before the test modules: their chain and the library's from this depth run past the
# qemu port's C stack (docs/boards.md, the import-depth trap).
from shimeji import Executor  # noqa: F401, I001
from test_executor_section_heap import _leaf, _solo

from shimeji import Trace, core
from shimeji.trace import kinds as K
from support import needs_thread_module


@needs_thread_module  # two workers, driven in turn on this thread (each under its context)
def test_a_completion_waking_a_traced_workers_joiner_allocates_nothing_inside_the_section():
    # A task that ends on worker 1 wakes its joiner on worker 0 inside the section (the
    # completion holds it while it pops the joiners). With a trace on worker 0 that wake is a
    # CROSS_CORE_WAKE, and looking up the waking worker was a bytecode call whose frame passed
    # 11 words: a heap block inside the section, which on two RP2040 cores waited for the GC's
    # mutex while core 0, holding it, took an interrupt that waited for the section (both
    # cores stopped: test_executor_trace's worker test on two emulated cores, session 22).
    cs, ex = _solo(workers=2, capacity=8)
    w0, w1 = ex.workers
    trace = Trace(256, side=64).attach(w0)
    got = []

    async def joiner(h):
        got.append(await h)

    def turn(w):
        core.register_thread(w._ctx)  # this thread is w's now (what Worker.run does)
        try:
            w.tick()
        finally:
            core.unregister_thread()

    for _ in range(3):
        h = w1.spawn(_leaf(7))
        w0.spawn(joiner(h))
        turn(w0)  # the joiner parks on the handle
        turn(w1)  # the leaf yields
        turn(w1)  # the leaf ends on worker 1 and wakes the joiner on worker 0
        turn(w0)
    assert got == [7, 7, 7]
    cross = [r for r in trace.records() if r[1] == K.CROSS_CORE_WAKE]
    assert len(cross) == 3 and all(r[3] == 1 for r in cross), trace.records()
    assert cs.check_balanced() > 10
