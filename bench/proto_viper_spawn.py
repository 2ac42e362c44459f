"""A design study, not shimeji's runtime: a batch's spawns, their polls to completion and the
take of their finished handles (``join_all``'s), native over slot attributes v viper over words.

Round fifteen's question: what do spawn and the completion cost with the slot's fields as
words written in viper, with a fixed-argument viper entry ``spawn(coro)``, and the handle?
Each mode runs ``n`` tasks in batches of 100 from a driver outside any task: 100 spawns onto
the tick's own list (as ``spawn``'s in-line case), one pass that polls each task once (each
ends: its handle's ``_ref`` cleared, its slot freed, as ``tick_fifo``'s in-line completion),
then the batch's handles taken as ``join_all`` takes finished ones. The coroutine's making
and its one resumption are the same in all modes.

- "native": today's outline: attributes (``state``, links, the free list, the scheduler's
  heads and next id), a native method ``spawn(self, coro, name=None)`` bound on the instance.
- "viper": everything a word by slot number (state, free-list and run-list links; the
  scheduler's free head, next id, list head and tail in the same array), the coroutine and
  the handle from lists by slot number; ``spawn(coro)`` a viper closure (fixed argument
  count) bound on the instance; a new handle per spawn (``object.__new__``, two stores).
- "viper2": "viper" behind a native ``spawn(coro, name=None)`` that calls it (the named form
  kept on the one entry: two calls).
- "vipergen": "viper" with a per-slot handle made once, never replaced (a generation in the
  words): what no handle per spawn would save (not JoinHandle's contract).
- "wnative", "wviper": session 15's slot layout (tick15): only the state is a word, in the
  slot's own ``array('i')`` (``slot.w``); links, heads and the free list stay attributes;
  spawn native (``slot.w[0] = ...``) or a viper closure ``spawn(coro)``
  (``ptr32(slot.w)[0] = ...``); the pass native over ``slot.w``.

Historical (MicroPython only: viper): docs/benchmarks.md ("Spawn, round fifteen") cites its
figures, ``tools/instr.py --only "spawn prototype native,..."`` runs it and
``host_tests/test_bench_prototypes.py`` checks that it runs; not kept in step with the runtime.
"""

from array import array

import micropython
from micropython import const

_CAP = const(128)
_NONE = const(0x1000)  # "no slot" (a -1 would read as 2**32 - 1 through ptr32 on 64-bit)
_STATE = const(0)  # the words by slot number: state, free-list link, run-list link
_FREE_NEXT = const(128)
_RUN_NEXT = const(256)
_G_FREE = const(384)  # the scheduler's words: free head, next id, list head and tail, news
_G_NEXT_ID = const(385)
_G_LHEAD = const(386)
_G_LTAIL = const(387)
_G_NEWS = const(388)
_LEN = const(392)
_FREE = const(0)
_QUEUED = const(1)
_RUNNING = const(2)
_BATCH = const(100)
_ID_MASK = const(0x3FFFFFFF)


class Handle:
    """A JoinHandle's two fields (class defaults, no ``__init__``: as task/slot.py's)."""

    _ref = None
    id = 0


_new = object.__new__


class Slot:
    """The fields the native outline reads (TaskSlot's, by name)."""

    def __init__(self):
        self.state = _FREE
        self.free_next = None
        self.run_next = None
        self.coro = None
        self.id = 0
        self.handle = None
        self.handle_out = True
        self.sched = None
        self.name = None
        self.w = array("i", (0, 0, 0, 0))  # (the "w" modes' state word)


async def trivial():
    return None


class Sched:
    """The scheduler's fields spawn's in-line case reads, and a native ``spawn`` as today's."""

    def __init__(self, words=False):
        self._free_head = None
        self._next_id = 1
        self._local_head = None
        self._local_tail = None
        self._news = False
        self._local_ok = True
        self._inbox_head = None
        slots = [Slot() for _ in range(_CAP)]
        for i in range(_CAP - 1, -1, -1):
            slots[i].free_next = self._free_head
            self._free_head = slots[i]
        self.spawn = self.wspawn if words else self.spawn  # bound on the instance

    @micropython.native
    def spawn(self, coro, name=None, _handle=Handle, _new=_new):
        if self._local_ok and name is None and self._inbox_head is None:
            slot = self._free_head
            task_id = self._next_id
            if slot is None:
                pass
            elif task_id < _ID_MASK:
                self._free_head = slot.free_next
                self._next_id = task_id + 1
                handle = _new(_handle)
                handle._ref = slot
                handle.id = task_id
                slot.handle = handle
                slot.name = None
                slot.sched = self
                slot.coro = coro
                slot.id = task_id
                slot.state = _QUEUED
                tail = self._local_tail
                if tail is None:
                    self._local_head = slot
                    self._news = True
                else:
                    tail.run_next = slot
                self._local_tail = slot
                return handle
        raise RuntimeError

    @micropython.native
    def wspawn(self, coro, name=None, _handle=Handle, _new=_new):
        if self._local_ok and name is None and self._inbox_head is None:
            slot = self._free_head
            task_id = self._next_id
            if slot is None:
                pass
            elif task_id < _ID_MASK:
                self._free_head = slot.free_next
                self._next_id = task_id + 1
                handle = _new(_handle)
                handle._ref = slot
                handle.id = task_id
                slot.handle = handle
                slot.name = None
                slot.sched = self
                slot.coro = coro
                slot.id = task_id
                slot.w[0] = _QUEUED
                tail = self._local_tail
                if tail is None:
                    self._local_head = slot
                    self._news = True
                else:
                    tail.run_next = slot
                self._local_tail = slot
                return handle
        raise RuntimeError


def _bind_wspawn(sched, nil, hcls, new):
    @micropython.viper
    def spawn(coro):
        if sched._local_ok:
            if sched._inbox_head is nil:
                slot = sched._free_head
                task_id = int(sched._next_id)
                if slot is nil:
                    pass
                elif task_id < _ID_MASK:
                    sched._free_head = slot.free_next
                    sched._next_id = task_id + 1
                    handle = new(hcls)
                    handle._ref = slot
                    handle.id = task_id
                    slot.handle = handle
                    slot.name = nil
                    slot.sched = sched
                    slot.coro = coro
                    slot.id = task_id
                    w = ptr32(slot.w)  # noqa: F821 (viper's cast)
                    w[0] = _QUEUED
                    tail = sched._local_tail
                    if tail is nil:
                        sched._local_head = slot
                        sched._news = True
                    else:
                        tail.run_next = slot
                    sched._local_tail = slot
                    return handle
        raise RuntimeError

    return spawn


@micropython.native
def _pass_native(sched, words, _stop=StopIteration):
    # One poll of each task of the list; each ends (tick_fifo's in-line completion's stores).
    slot = sched._local_head
    last = sched._local_tail
    sched._local_head = None
    sched._local_tail = None
    while slot is not None:
        nxt = slot.run_next
        if words:
            w = slot.w
            w[0] = _RUNNING
        else:
            slot.state = _RUNNING
        try:
            slot.coro.send(None)
        except _stop as e:
            if e.value is None:
                slot.handle._ref = None
                slot.coro = None
                if words:
                    w[0] = _FREE
                else:
                    slot.state = _FREE
                slot.sched = None
                slot.free_next = sched._free_head
                sched._free_head = slot
        if slot is last:
            break
        slot = nxt


@micropython.native
def _take(hs):
    # join_all's take of a finished handle (its task returned None): one load and a test.
    got = 0
    for h in hs:
        if h._ref is None:
            got += 1
    return got


def _bind_viper(words, coros, handles, gen, nil):
    _exc = nil  # the pass's exception: a cell of the closure (a viper local cannot be bound;
    # a module global costs ~800 more per completion: "Spawn, round fifteen")

    @micropython.viper
    def spawn(coro):
        w = ptr32(words)  # noqa: F821 (viper's cast)
        n = w[_G_FREE]
        task_id = w[_G_NEXT_ID]
        if n >= _NONE or task_id >= _ID_MASK:
            raise RuntimeError
        w[_G_FREE] = w[_FREE_NEXT + n]
        w[_G_NEXT_ID] = task_id + 1
        if gen:  # (a generation word would be written here: the id's)
            handle = handles[n]
        else:
            handle = _new(Handle)
            handle._ref = coro
            handle.id = task_id
            handles[n] = handle
        coros[n] = coro
        w[_STATE + n] = _QUEUED
        tail = w[_G_LTAIL]
        if tail >= _NONE:
            w[_G_LHEAD] = n
            w[_G_NEWS] = 1
        else:
            w[_RUN_NEXT + tail] = n
        w[_G_LTAIL] = n
        return handle

    @micropython.viper
    def one_pass() -> int:
        nonlocal _exc
        w = ptr32(words)  # noqa: F821
        n = w[_G_LHEAD]
        last = w[_G_LTAIL]
        w[_G_LHEAD] = _NONE
        w[_G_LTAIL] = _NONE
        done = 0
        while n < _NONE:
            nxt = w[_RUN_NEXT + n]
            w[_STATE + n] = _RUNNING
            try:
                coros[n].send(None)
            except StopIteration as _exc:  # noqa: F841 (the closure's cell)
                if _exc.value is nil:
                    if gen:
                        pass
                    else:
                        handles[n]._ref = nil
                    coros[n] = nil
                    w[_STATE + n] = _FREE
                    w[_FREE_NEXT + n] = w[_G_FREE]
                    w[_G_FREE] = n
                    done += 1
            if n == last:
                break
            n = nxt
        return done

    return spawn, one_pass


class _Holder:
    pass


def _words():
    words = array("i", [0] * _LEN)
    for i in range(_CAP):
        words[_FREE_NEXT + i] = i + 1 if i + 1 < _CAP else _NONE
    words[_G_FREE] = 0
    words[_G_NEXT_ID] = 1
    words[_G_LHEAD] = _NONE
    words[_G_LTAIL] = _NONE
    return words


def run(mode, n):
    """``n`` tasks in batches of 100, by ``mode`` (see the module's docstring)."""
    hs = [None] * _BATCH
    if mode in ("native", "wnative", "wviper"):
        s = Sched(mode != "native")
        if mode == "wviper":
            s.spawn = _bind_wspawn(s, None, Handle, _new)
        words = mode != "native"
        for _ in range(n // _BATCH):
            for i in range(_BATCH):
                hs[i] = s.spawn(trivial())
            _pass_native(s, words)
            _take(hs)
        return
    words = _words()
    coros = [None] * _CAP
    handles = [Handle() for _ in range(_CAP)]
    vspawn, one_pass = _bind_viper(words, coros, handles, mode == "vipergen", None)
    s = _Holder()
    if mode == "viper2":
        @micropython.native
        def spawn(coro, name=None, _v=vspawn):
            if name is None:
                return _v(coro)
            raise RuntimeError

        s.spawn = spawn
    else:
        s.spawn = vspawn
    for _ in range(n // _BATCH):
        for i in range(_BATCH):
            hs[i] = s.spawn(trivial())
        one_pass()
        _take(hs)
