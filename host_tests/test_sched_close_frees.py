# Nothing leaks: a closed InterruptScheduler and a stopped TimerBackground give their heap back.
# MicroPython's schedule queue is a ring of slots that keep their last callback (GC roots that
# are not cleared when the callback runs): a scheduler that queued a bound method of itself
# stayed alive after close() until other callbacks went round every slot (~3.5 KB a level on
# the STM32L475). On MicroPython the heap (gc.mem_alloc() after gc.collect()) must come back to
# where it was, within KEPT_BYTES; on CPython, whose stand-in queue keeps its last callbacks the
# same way (shimeji.port), no closed scheduler may be alive (weak references). Both runtimes,
# and the firmware test runs.
import gc

from shimeji import FakeClock, InterruptScheduler, StaticScheduler, Timer, WaitCell, port
from shimeji.platform.bsp import BoardBase
from shimeji.sched.background import TimerBackground
from shimeji.sched.runloop import RunLoop
from support import IS_MICROPYTHON

# What may stay after the cycles: the one-item lists a stale queue slot still reaches (the
# queue has 4-8 slots; a list is 32 B on a 32-bit board, 64 B on the 64-bit unix port) and
# the odd small block. Measured (2026-12-05): 0-96 B on the STM32L475 firmware, 0-64 B on the
# unix port. One closed level of _level_cycle kept alive is 6.7 KB on the STM32L475.
KEPT_BYTES = 512
CYCLES = 6


def _settle():
    for _ in range(20):  # a backward jump: MicroPython runs scheduled callbacks here
        pass
    port.check_point()


def _level_cycle(wakes, weak):
    """Make an interrupt level with a timer and a waiting task, wake it, close it."""
    isr = InterruptScheduler(4, timer=Timer(FakeClock()))
    cell = WaitCell()
    seen = [0]

    async def urgent():
        while True:
            await cell.wait()
            seen[0] += 1

    isr.spawn(urgent())
    _settle()
    for _ in range(wakes):
        cell.wake()
        _settle()
    isr.close()
    assert seen[0] == wakes and isr.runs == wakes + 1 and isr.error is None, (seen, isr.runs)
    if weak is not None:
        weak.append(weak_ref(isr))


class FakeBoard(BoardBase):
    def __init__(self):
        BoardBase.__init__(self)
        self.callback = None

    def start_ticker(self, callback):
        self.callback = callback

    def stop_ticker(self):
        self.callback = None


async def _spin(box):
    from shimeji import yield_now

    while True:
        box[0] += 1
        await yield_now()


def _background_cycle(steps, weak):
    """Run a scheduler behind a fake board's ticker for ``steps`` steps, then stop it."""
    board = FakeBoard()
    sched = StaticScheduler(4, timer=Timer(FakeClock()))
    bg = TimerBackground(board, RunLoop(sched, tick_size=1)).start()
    box = [0]
    bg.spawn(_spin(box))
    for _ in range(steps):
        board.callback(None)
        _settle()
    bg.stop()
    sched.close()
    assert box[0] == steps and bg.steps == steps, (box, bg.steps)
    if weak is not None:
        weak.append(weak_ref(bg))
        weak.append(weak_ref(sched))


def weak_ref(obj):
    import weakref

    return weakref.ref(obj)


# The collector scans the collecting thread's stack conservatively, from its stack pointer
# up: a word there that holds a block's address keeps the block. The frames of gc.collect()
# itself leave some words of the stack below its caller unwritten, and one of them may still
# hold an address a cycle's frames left there: session 14 found the last cycle's
# InterruptScheduler (5.8-5.9 KB on the STM32 and the C3) kept by one such word, 1.4 KB below
# the top of the main thread's stack, inside the frames of that collection
# (tools/heapwhy.py, docs/boards.md), while nothing of shimeji held it. On the unix port (a
# 512 KB heap) a version of this module that collected from the cycles' depth kept 9.4 KB
# after the TimerBackground cycles in one layout of the frames (under 39 frames more) and
# none in 149 others: such a word comes and goes with the frames. So each cycle runs DEPTH
# frames deeper than the collection that measures it: what its frames leave behind lies below
# the collecting thread's stack pointer, where the collector does not look, and only
# references that live on (shimeji's, the test's) keep what a cycle made.
DEPTH = 16  # frames: some 1.5-3 KB of a board's stack, below gc.collect()'s own few hundred B
# A board's C stack may not hold DEPTH frames more and a cycle on top (the RP2040's 8 KB:
# "maximum recursion depth exceeded" inside a cycle, whose half-done state then broke the next
# cycle). So before any cycle, with nothing of shimeji touched, a pure recursion finds how many
# frames the stack still has here (_frames_free), and the cycles run min(DEPTH, what leaves a
# cycle CYCLE_ROOM frames) deep: never a cycle started that may run out of stack half-way.
# Measured (2026-12-07), from a caller with F frames free: a cycle ran at most F - 10 frames
# deep on the unix port (F = 174) and F - 11 on the RP2040 firmware in rp2040js (F = 26, both
# cycles); so CYCLE_ROOM = 16 leaves 5 frames to spare, and the RP2040 runs them 9 deep.
CYCLE_ROOM = 16
_REACHED = [0]  # frames the last probe entered (made here: the probe allocates nothing)


def _at_depth(n, fn, a, b):
    if n:
        return _at_depth(n - 1, fn, a, b)
    return fn(a, b)


def _dive(n, fn, a, b):  # _at_depth's frame, touching nothing but _REACHED
    _REACHED[0] += 1
    if n:
        _dive(n - 1, fn, a, b)


def _frames_free(most):
    """How many frames of _at_depth (up to ``most``) the C stack still has below the caller."""
    _REACHED[0] = 0
    try:
        _dive(most - 1, None, None, None)
    except RuntimeError:  # maximum recursion depth exceeded: the probe's own frames unwound
        pass
    return _REACHED[0]


def _cycle_depth():
    """How deep below _kept the cycles run: DEPTH where the stack has room, else less."""
    free = _frames_free(DEPTH + CYCLE_ROOM)
    if free < CYCLE_ROOM:  # not even one cycle fits: say so before any starts
        raise AssertionError("the C stack has %d frames left here, a cycle needs %d"
                             % (free, CYCLE_ROOM))
    return min(DEPTH, free - CYCLE_ROOM)


def _kept(cycle, n):
    """Bytes still held after ``n`` more cycles (MicroPython), or the objects of the cycles
    still alive (CPython: weak references, a list of their reprs)."""
    if not IS_MICROPYTHON:
        weak = []
        for i in range(n):
            cycle(i % 3, weak)
        gc.collect()
        return [repr(w()) for w in weak if w() is not None]
    depth = _cycle_depth()  # before any cycle: none may run out of stack half-way
    _at_depth(depth, cycle, 2, None)  # warm up: every path and import taken once
    gc.collect()
    base = gc.mem_alloc()
    for i in range(n):
        _at_depth(depth, cycle, i % 3, None)
    gc.collect()
    return gc.mem_alloc() - base


def _assert_freed(kept):
    if IS_MICROPYTHON:
        assert kept <= KEPT_BYTES, "%d bytes kept after the cycles" % kept
    else:
        assert kept == [], kept


def test_the_cycles_run_depth_frames_deep_where_the_stack_has_room():
    depth = _cycle_depth()  # as _kept finds it, one frame below a test
    free = _frames_free(DEPTH + CYCLE_ROOM + 1)  # the same frames, from one frame higher
    assert depth == min(DEPTH, free - 1 - CYCLE_ROOM), (depth, free)
    if free > DEPTH + CYCLE_ROOM:  # the unix port: all DEPTH frames
        assert depth == DEPTH, depth
    if free > CYCLE_ROOM + 8:  # fewer frames left: fewer frames deep
        assert 0 < _at_depth(0, _depth_near_the_end, 4, None) < DEPTH


def _depth_near_the_end(left, _):
    """The cycle depth where only CYCLE_ROOM + ``left`` frames are free (deep in a probe)."""
    free = _frames_free(10000)
    return _at_depth(free - CYCLE_ROOM - left - 1, _left_cycle_depth, None, None)


def _left_cycle_depth(a, b):
    return _cycle_depth()


def test_a_closed_interrupt_scheduler_gives_its_heap_back():
    _assert_freed(_kept(_level_cycle, CYCLES))


def test_the_heap_does_not_grow_with_the_number_of_levels_closed():
    few = _kept(_level_cycle, 2)
    many = _kept(_level_cycle, 3 * CYCLES)
    _assert_freed(few)
    _assert_freed(many)
    if IS_MICROPYTHON:  # the ring's stale slots are bounded: more cycles keep no more
        assert many <= few + 128, (few, many)


def test_a_stopped_timer_background_gives_its_heap_back():
    _assert_freed(_kept(_background_cycle, CYCLES))


def test_a_stopped_background_runs_again_when_started():
    board = FakeBoard()
    sched = StaticScheduler(4, timer=Timer(FakeClock()))
    bg = TimerBackground(board, RunLoop(sched, tick_size=1)).start()
    box = [0]
    bg.spawn(_spin(box))
    board.callback(None)  # queued, and stopped before it ran (on CPython it runs at once)
    bg.stop()
    _settle()
    before = box[0]
    assert bg.start() is bg
    for _ in range(3):
        board.callback(None)
        _settle()
    assert box[0] == before + 3 and bg.steps == before + 3, (before, box, bg.steps)
    bg.stop()
    sched.close()


def test_a_board_lets_a_closed_interrupt_level_go():
    board = BoardBase()
    sched = board.scheduler(4)
    first = board.interrupt_scheduler(4, sched)
    first.close()
    second = board.interrupt_scheduler(4, sched)
    assert board.interrupt_levels == [second]
    second.close()
    fire = board.ticker_callback(sched.timer)
    assert fire == sched.timer.interrupt and board.interrupt_levels == []
    fire(None)
    assert sched.timer.interrupts == 1 and second.timer.interrupts == 0
    sched.close()
