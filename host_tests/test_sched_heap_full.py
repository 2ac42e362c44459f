# A task that fails on a full heap stays failed, with a MemoryError, whatever ends after it
# while the heap is still full; the scheduler works again once memory is freed. MicroPython
# makes an exception that finds no heap in one static object (its emergency exception) and the
# next such exception in the same object: kept as a failed task's outcome, it became the
# StopIteration of the next task that returned on the full heap (errors.py's kept_error).
import gc

from shimeji import StaticScheduler, Timer, join_all, sleep_ms, spawn
from shimeji.errors import HEAP_FULL, kept_error
from support import heap_locked, micropython_only

FILL = (1024, 64, 4)  # list sizes the heap is filled with, largest first, then 1-tuples


class Hog:
    """Holds what ``fill()`` allocated, in a list made up front (no deep chain for the
    collector to mark); ``free()`` lets it go. At most ``n`` blocks, and at most one per
    32 B of the free heap: on a board's heap (the STM32's ~90 KB) a list of 2**15 words was
    128 KB itself (the blocks held are mostly FILL's largest lists: far fewer)."""

    def __init__(self, n=1 << 15):
        gc.collect()
        self.held = [None] * min(n, max(256, gc.mem_free() // 32))
        self.n = 0

    def fill(self):
        held, i = self.held, self.n
        for size in FILL:
            try:
                while i < len(held):
                    held[i] = [i] * size
                    i += 1
            except MemoryError:
                pass
        try:
            while i < len(held):
                held[i] = (i,)  # (one block: the last ones)
                i += 1
        except MemoryError:
            pass
        self.n = i

    def free(self):
        for i in range(self.n):
            self.held[i] = None
        self.n = 0
        gc.collect()


def test_kept_error_keeps_an_ordinary_error_itself():
    e = ValueError("x")
    assert kept_error(e) is e
    assert kept_error(None) is None


def _emergency():
    try:
        raise KeyError("k")  # on MicroPython with the heap locked: its emergency object
    except KeyError as e:
        return e


def _emergency_keeps_args():
    """True where MicroPython's emergency exception keeps its arguments (a port with an
    emergency exception buffer: the unix port); the qemu and STM32 ports have none (0 B until
    ``micropython.alloc_emergency_exception_buf``), so an exception made on a full heap there
    has no message, and a ``StopIteration`` no value: lost before shimeji sees it."""
    return list(heap_locked(_emergency).args) == ["k"]


@micropython_only
def test_kept_error_copies_the_emergency_exception():
    e = heap_locked(_emergency)
    # Its arguments are ("k",) where the port has an emergency exception buffer to hold them
    # (the unix port), () where it has none (the STM32's is 0 B until
    # micropython.alloc_emergency_exception_buf): the copy keeps what the object held.
    args = list(e.args)
    assert args in (["k"], []), args
    copy = kept_error(e)
    assert copy is not e and type(copy) is KeyError and list(copy.args) == args
    heap_locked(_emergency)  # the next error made with no heap: the same object again
    assert type(copy) is KeyError and list(copy.args) == args


@micropython_only
def test_kept_error_with_no_heap_for_the_copy_is_heap_full():
    e = heap_locked(_emergency)
    assert heap_locked(kept_error, e) is HEAP_FULL and type(HEAP_FULL) is MemoryError


@micropython_only
def test_a_task_failing_on_a_full_heap_stays_failed_after_another_returns():
    s = StaticScheduler(4)
    hog = Hog()

    async def eat():
        hog.fill()
        while True:  # until MemoryError, uncaught
            hog.held[hog.n] = [hog.n]
            hog.n += 1

    async def other():
        hog.fill()
        return 5  # its StopIteration made on the full heap: the emergency object

    async def main():
        a = spawn(eat())
        b = spawn(other())
        return a, await join_all(a, b, return_exceptions=True)

    try:
        a, r = s.run_until_complete(main())
    finally:
        hog.free()
    assert type(r[0]) is MemoryError and r[1] == 5, r  # (before: [5, 5], the failure lost)
    try:
        a.result()
        raise AssertionError("result() of a failed task returned")
    except MemoryError as e:
        assert e is r[0]
    assert s.run_until_complete(other()) == 5 and s.free_count() == 4


@micropython_only
def test_a_task_failing_on_its_own_allocations_keeps_its_own_message():
    # The task held the memory itself: its frame goes at its completion, and its own
    # MemoryError (the emergency object) is copied there, message and all, before the next
    # task's return on a full heap reuses the object.
    s = StaticScheduler(4)
    hog = Hog()

    async def grow():
        mine = Hog(1 << 14)  # its own: freed with its frame
        mine.fill()
        while True:  # until MemoryError on the last block: the emergency object
            mine.held[mine.n] = [mine.n]
            mine.n += 1

    async def other():
        hog.fill()
        return 5

    async def main():
        a = spawn(grow())
        try:
            await a
        except MemoryError as e:
            err = e
        await spawn(other())  # ends on a full heap
        return err

    try:
        err = s.run_until_complete(main())
    finally:
        hog.free()
    assert type(err) is MemoryError
    if _emergency_keeps_args() or err is not HEAP_FULL and str(err):
        assert str(err).startswith("memory allocation failed"), str(err)


@micropython_only
def test_many_tasks_running_out_of_memory_each_end_in_memoryerror_or_their_result():
    s = StaticScheduler(40, timer=Timer())
    hog = Hog()

    async def alloc(i):
        mine = []
        try:
            while True:
                mine.append([i] * 16)
                if len(mine) % 8 == 0:
                    await sleep_ms(0)
        except MemoryError:
            if i % 2:
                raise
            hog.fill()  # returns with the heap full
            return i

    async def main():
        hs = [spawn(alloc(i)) for i in range(32)]
        return await join_all(*hs, return_exceptions=True)

    lost = None if not _emergency_keeps_args() else -1  # (a value a port may lose: above)
    for _ in range(3):
        try:
            r = s.run_until_complete(main())
        finally:
            hog.free()
        assert len(r) == 32
        for i, x in enumerate(r):
            assert x in (i, lost) if i % 2 == 0 else type(x) is MemoryError, (i, x)
        assert s.free_count() == 40
