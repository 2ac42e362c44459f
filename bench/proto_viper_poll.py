"""A design study, not shimeji's runtime: the FIFO tick's poll loop in viper over slot words,
against the same loop in native code over slot attributes (``tick_fifo``'s outline).

Round fourteen's question (docs/benchmarks.md, "Timers, round fourteen"): a viper function
cannot bind an exception to a local (``except StopIteration as e`` is a ViperTypeError: the
handler's end stores None in ``e``, a type of its own in viper), and a task's completion needs
``e.value``. Bound to a module global (``global _exc``) the handler compiles and runs: a store
and a delete in the module's dict per completion. This measures what the viper loop gains per
poll (the slot's state and throw flag and the ring's link as words by slot number, the slot
from a list) and what a completion costs there, each against the native loop. The native loop
here keeps only the poll's duties (no inbox, park or spawn list): both sides equal but for the
storage. ``run(kind, mode, n)``: ``n`` polls of 50 tasks that yield (``kind`` "yield") or that
end at their first poll and get a new coroutine in their slot (``kind`` "end"; the coroutine's
making is the same on both sides). ``tools/instr.py --only "poll prototype..."``. MicroPython
only (viper).

Historical: round fourteen's study, kept because docs/benchmarks.md ("Timers, round fourteen")
cites its figures and ``tools/instr.py`` runs it; not kept in step with the runtime (the
runtime has moved on since), so its figures are that round's.
``host_tests/test_bench_prototypes.py`` checks that it still runs.
"""

from array import array

import micropython
from micropython import const

_K = const(50)  # tasks in the ring
_NONE = const(0x1000)  # "no slot" (a -1 would read as 2**32 - 1 through ptr32 on 64-bit)
_STATE = const(0)  # the words: per slot number its state, its throw flag, its ring link
_THROW = const(64)
_NEXT = const(128)
_LEN = const(193)
_QUEUED = const(1)
_RUNNING = const(2)
_FREE = const(0)


class Slot:
    """The fields the native loop reads (TaskSlot's, by name)."""

    def __init__(self):
        self.state = _QUEUED
        self.throw_exc = None
        self.run_next = None
        self.coro = None


def _yielder():
    while True:
        yield None


def _ender():
    return None
    yield  # noqa (a generator)


class _Ctx:
    slot = None
    tail = None


@micropython.native
def _tick_native(ctx, head, tail, n, make):
    # tick_fifo's poll, yield and end, over attributes (native: as the runtime is today).
    left = n
    stays = False
    ended = 0
    while left:
        if stays:
            tail = head
            head = head.run_next
            stays = False
        slot = head
        left -= 1
        slot.state = _RUNNING
        ctx.slot = slot
        try:
            if slot.throw_exc is None:
                r = slot.coro.send(None)
            else:
                r = None
        except StopIteration as e:
            value = e.value
            if value is None:
                ended += 1
            slot.state = _FREE  # (the runtime's completion: its slot freed; here refilled)
            slot.coro = make()
            slot.state = _QUEUED
            stays = True
            continue
        if r is None:
            slot.state = _QUEUED
            stays = True
    ctx.tail = tail  # (once: the ring's ends go back to the queue, as tick_fifo's finally)
    return ended


_exc = None  # the viper loop's exception: a module global (a local cannot be bound)


def _bind(objs, words, ctx, nil):
    @micropython.viper
    def tick(n, make) -> int:
        # The same loop: the ring, the state and the throw flag as words by slot number.
        global _exc
        w = ptr32(words)  # noqa: F821 (viper's cast)
        head = 0
        tail = _K - 1
        left = int(n)
        stays = 0
        ended = 0
        while left:
            if stays:
                tail = head
                head = w[_NEXT + head]
                stays = 0
            left -= 1
            w[_STATE + head] = _RUNNING
            slot = objs[head]
            ctx.slot = slot
            r = nil
            try:
                if w[_THROW + head]:
                    pass
                else:
                    r = slot.coro.send(None)
            except StopIteration as _exc:
                value = _exc.value
                if value is nil:
                    ended += 1
                w[_STATE + head] = _FREE
                slot.coro = make()
                w[_STATE + head] = _QUEUED
                stays = 1
                continue
            if r is nil:
                w[_STATE + head] = _QUEUED
                stays = 1
        w[_LEN - 1] = tail  # (once, as the native loop's)
        return ended

    return tick


def run(kind, mode, n):
    """``n`` polls of the ring, by ``mode`` ("native" or "viper"); returns the tasks ended."""
    make = _yielder if kind == "yield" else _ender
    ctx = _Ctx()
    slots = [Slot() for _ in range(_K)]
    words = array("i", [0] * _LEN)
    for i in range(_K):
        slots[i].coro = make()
        slots[i].run_next = slots[(i + 1) % _K]
        words[_STATE + i] = _QUEUED
        words[_NEXT + i] = (i + 1) % _K
    if mode == "native":
        return _tick_native(ctx, slots[0], slots[_K - 1], n, make)
    return _bind(slots, words, ctx, None)(n, make)
