"""Cache lines of their own for the objects that every executor worker reads at every task
switch (the unix port on a host; a no-op elsewhere).

Design note: the layout lottery (docs/executor.md, "Cache lines of their own"). A 64-byte cache
line holds two of MicroPython's 32-byte GC blocks (64-bit builds). ``yield_now`` on a worker
thread reads ``_threaded`` (a list), the bound ``_rings.get`` in it and the dict ``_rings``;
each shared a line with whatever the allocator put in the block beside it, which could be a
task's coroutine object or slot table, written by the worker polling that task at every resume:
then every switch on every other core missed that line. Which block lies beside it depends on
everything the program allocated before (an audit by address found the bound ``_rings.get``
beside a task's coroutine in 3 of 10 layouts: tools/layout_audit.py). ``isolated`` keeps a try
of ``make()`` only when its allocations fill whole lines from a line's start (with one inert
``object()`` block after them if needed), which ``id`` and ``uctypes`` confirm; nothing
allocated later can share those lines. It runs at import, where the heap is young and a try
lands within a few dozen blocks. Not placed (yet): each worker's own ring, which a hand-over
renews while workers run, and per-worker and per-task tables (docs/executor.md). Boards skip it
(the RP2040's SRAM has no data cache; the ESP32's two cores share one cache), and so does a
port without ``uctypes``.
"""

import sys

from . import port

LINE = 64  # bytes in a cache line (x86-64; most 64-bit ARM cores)
_FILLERS = 2048  # at most 64 KB of fillers (64-bit), garbage after

try:
    import gc

    import uctypes

    _ACTIVE = port.IS_MICROPYTHON and sys.platform in ("linux", "darwin")
except ImportError:
    _ACTIVE = False

_WORD = 8 if getattr(sys, "maxsize", 0) > 0xFFFFFFFF else 4
_BLOCK = 4 * _WORD  # MicroPython's GC block: four words (MICROPY_BYTES_PER_GC_BLOCK)


def _word(addr):
    return int.from_bytes(uctypes.bytearray_at(addr, _WORD), "little")


def list_extents(lst):
    """The allocations of a list: its object and its items array (``mp_obj_list_t``).
    Allocates; not ISR-safe."""
    a = id(lst)
    return ((a, 4 * _WORD), (_word(a + 3 * _WORD), _word(a + _WORD) * _WORD))


def dict_extents(d):
    """The allocations of a dict: its object and its table (``mp_obj_dict_t``).
    Allocates; not ISR-safe."""
    a = id(d)
    return ((a, 4 * _WORD), (_word(a + 3 * _WORD), _word(a + 2 * _WORD) * 2 * _WORD))


def one_block(obj):
    """An object of one allocation of at most one block (a bound method, a small
    tuple). Allocates; not ISR-safe."""
    return ((id(obj), _BLOCK),)


def ring_extents(ring):
    """A ``yield_now`` ring ``(append, iterator)``: the tuple, the bound ``append``, the
    iterator, the deque and its items array (``mp_obj_deque_t``: items at word 4, their
    number at word 1; the iterator's deque at word 2).
    Allocates; not ISR-safe."""
    append, it = ring
    dq = _word(id(it) + 2 * _WORD)
    return ((id(ring), 4 * _WORD), (id(append), 3 * _WORD), (id(it), 4 * _WORD),
            (dq, 6 * _WORD), (_word(dq + 4 * _WORD), _word(dq + _WORD) * _WORD))


def _blocks(n):
    return (n + _BLOCK - 1) // _BLOCK * _BLOCK


def _run(extents):
    """The ``(start, end)`` of ``extents`` if they fill consecutive blocks, else None."""
    ext = sorted(extents)
    at = ext[0][0]
    for a, n in ext:
        if a != at:
            return None
        at += _blocks(n)
    return ext[0][0], at


def isolated(make, extents):
    """``make()``'s object, placed so that no other object shares a cache line with it where
    that matters (``_ACTIVE``): returns ``(obj, guard)``; keep ``guard`` as long as ``obj``
    (None where it was not placed: a port that needs none, a heap without the room).
    ``extents(obj)``: its allocations, ``(address, bytes)``. With the collector off, one-block
    fillers take the small holes first fit would put the object in, until they run on
    consecutive blocks; a try there is kept if the object's allocations fill consecutive
    blocks from a line's start and end on a line's end or at its guard (one inert block
    allocated right after it); a miss stays allocated, which moves the next try on. The
    fillers and misses (at most ``_FILLERS`` blocks) are freed by the next collection.
    Meanwhile an allocation that needs a collection fails on any thread: call it at import,
    never while other threads run. Allocates; not ISR-safe."""
    if not _ACTIVE:
        return make(), None
    was = gc.isenabled()
    gc.disable()  # (a collection would free the fillers behind us: holes for the object)
    try:
        prev = 0
        run = 0
        need = 8  # consecutive fillers before a try (more, once a miss told the size)
        lead = -1  # bytes from the last filler to the object's first block, once known
        for _ in range(_FILLERS):
            a = id(object())
            run = run + 1 if a == prev + _BLOCK else 0
            prev = a
            if run >= need and (lead < 0 or (a + lead) % LINE == 0):  # free blocks: a try
                obj = make()
                guard = object()
                ext = extents(obj)
                r = _run(ext)
                if r is not None and r[0] % LINE == 0:
                    if r[1] % LINE == 0:
                        return obj, guard  # (the guard lies elsewhere: harmless)
                    r = _run(ext + ((id(guard), _BLOCK),))
                    if r is not None and r[1] % LINE == 0:
                        return obj, guard
                if r is not None:  # (what make() allocates before the object: aim past it)
                    lead = r[0] - a
                size = 0
                for _a, n in ext:
                    size += _blocks(n) // _BLOCK
                need = size + size + 2  # (a miss in a short run of free blocks: a longer one)
                run = 0
    except MemoryError:  # a small heap: not placed
        pass
    finally:
        if was:
            gc.enable()
    return make(), None

