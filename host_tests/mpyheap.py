"""The tests that need more heap than is left where shimeji's code itself is in the heap: the
RP2040's ``.mpy`` path (shimeji's armv6m ``.mpy`` files in /lib, ``make test-firmware
BOARD=rp2040 MPY=1``), where the scheduler's and timer's native code take ~108 KB of the ~240
KB heap and the asyncio facade's ~70 KB more (docs/boards.md, "RP2040, session 21"). A test
marked ``@needs_heap_beside_mpy_code(n)`` is reported skipped there, saying why, when less than
``n`` bytes are free just before it runs; frozen, on the unix port and under CPython it runs."""

from support import IS_MICROPYTHON


class _HeapSkipped:
    """A test skipped, saying why, where shimeji runs from ``.mpy`` files in /lib and less
    than ``least`` bytes of the heap are free just before it runs (read then by the runners:
    ``skip_reason`` is a property). Its code is in the heap there, not in flash. The reason is
    made at import: where it is read the heap may not hold a new string."""

    def __init__(self, fn, least):
        self.fn = fn
        self.least = least
        self.why = ("shimeji's code from .mpy fills the heap here: needs %d KB free, has less "
                    "(docs/boards.md, \"RP2040, session 22\")" % (least // 1024))

    @property
    def skip_reason(self):
        import gc

        import shimeji

        if not getattr(shimeji, "__file__", "").startswith("/lib/"):
            return None
        gc.collect()
        return self.why if gc.mem_free() < self.least else None

    def __call__(self, *args):
        return self.fn(*args)


def needs_heap_beside_mpy_code(least):
    """Skip the test where shimeji's code is loaded from .mpy into a heap that no longer has
    ``least`` bytes free for the test (the asyncio facade's tests on the RP2040's .mpy path)."""

    def mark(fn):
        return _HeapSkipped(fn, least) if IS_MICROPYTHON else fn

    return mark
