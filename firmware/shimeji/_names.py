"""The hot paths' attribute names, interned first, each on an entry of MicroPython's map
look-up cache of its own.

Design note: MicroPython caches, for each map look-up by a name, where in the map it found
it: one array of 128 entries (``MICROPY_OPT_MAP_LOOKUP_CACHE_SIZE``) for every map, indexed
by the name's object word, ``(word >> 2) % 128`` (py/map.c). A name is a qstr, its word
``q << 3 | 2`` on the usual object model: names whose numbers ``q`` differ by a multiple of
64 share an entry, and a look-up of one after the other hashes the name and probes the map
(~100 instructions on the unix port instead of ~30). Where shimeji runs from source or from
``.mpy`` files its names are numbered in the order its modules are compiled or loaded, after
the program's own: which hot names shared an entry changed with any edit and with the
program that imports shimeji (``tools/instr.py --layouts``). On the unix port a spawn+join
hashed 10 of its 53 look-ups, 9 of them names of the slot, the scheduler and the handle.

So the package imports this module first, and ``place`` interns the hot names (``names``, in
order of use) before any other module is compiled or loaded: each name not interned yet goes
on an entry no other of them holds, and where the next number's entry is taken an unused name
(a pad: 2-4 bytes of the qstr pool) takes that number first. Names interned already
(MicroPython's own, like ``id`` and ``coro``, or the program's) keep their numbers, and their
entries are avoided. Frozen into a firmware every name is interned already: nothing is
placed, nothing kept. Under CPython: nothing. The names are a bytes literal (a str literal
would be interned when this module is compiled, in source order, not placed), and this
module adds no name to a firmware's sorted qstr pool that it did not have (a new one
renumbers the later ones and moves look-ups in and out of that cache: docs/benchmarks.md,
"Spawn, round ten").
"""

import sys

# The slot, scheduler, handle, context and wait-list fields of spawn, the tick, completion,
# join, wake and sleep, in order of how often they are read or written there; last, the
# address of the slot's words (``wa``, read at every poll), left off until session 26 (it
# shared an entry with ``handle`` or ``_local_tail`` in most layouts): placed after the
# others, which keep their numbers. (``w`` placed too cost the tickless row ~2 %.)
names = (
    b"sched state run_next _news _inbox_head _ref id timer name inbox_next _inbox_tail rewoken "
    b"_polling tail slot head _trace handle_out _local_tail _fifo handle _woken_int _spawned "
    b"_local_head pos _woken_ext dirty wait_phase throw_exc level coro _free_head tkit "
    b"parallel free_next _woken_timer _next_id _local_ok wait_value wait_status waiting_on "
    b"wait_next joiners cancel_requested _shielding _complete count _local_next "
    b"_kit _tick _ctx pooled owner wait_prev wait_key closed pol wa"
)


def place(names=names, _count=[0]):  # noqa: B006 (pads made so far: each call new ones)
    """Intern the space-separated names in ``names`` (bytes) that are not interned yet, each
    on a look-up cache entry (of 128) that none of ``names`` holds, while pads last (at most
    24 a call). Returns ``(placed, pads)``: names interned, unused names interned to skip a
    taken entry (two more measure the step between numbers); ``(0, 0)`` under CPython and
    where every name was interned already. Import time only (not ISR-safe; allocates)."""
    if sys.implementation.name != "micropython":
        return 0, 0
    taken = bytearray(128)
    fresh = []
    for b in names.split():
        s = b.decode()  # the interned name itself if there is one, else a new str
        if id(s) == id(b.decode()):  # interned: its entry is fixed
            taken[(id(s) >> 2) % 128] = 1
        else:
            fresh.append(b)
    if not fresh:
        return 0, 0
    words = []
    for _ in range(2):  # two pads: the step between the words of two consecutive numbers
        _count[0] += 1
        b = (chr(1) + str(_count[0])).encode()
        getattr(sys, b.decode(), None)  # interns the name (sys has no such attribute)
        words.append(id(b.decode()))  # the interned name now
    step = words[1] - words[0]
    nxt = words[1] + step  # the word the next new name gets
    pads = 2
    for b in fresh:
        while pads < 24 and taken[(nxt >> 2) % 128]:
            _count[0] += 1
            getattr(sys, chr(1) + str(_count[0]), None)
            pads += 1
            nxt += step
        getattr(sys, b.decode(), None)
        word = id(b.decode())
        taken[(word >> 2) % 128] = 1
        nxt = word + step
    return len(fresh), pads


stats = place()  # first, before the package's other modules are compiled or loaded
