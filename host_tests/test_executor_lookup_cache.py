"""The executor's per-thread look-ups and MicroPython's map look-up cache.

The unix port (and any build with ``MICROPY_OPT_MAP_LOOKUP_CACHE``) has one 128-entry cache
for every map look-up of every thread, indexed by the key: ``(key >> 2) % 128`` of the key's
object word. A name (a qstr, ``q << 3 | 2``) always lands on an even entry; a small int ``k``
(``k << 1 | 1``) on entry ``(k >> 1) % 128``, odd when bit 1 of ``k`` is set. Two keys on one
entry rewrite it at each look-up; with workers on two cores each rewrite moves the cache line
between them. ``yield_now`` on a worker thread finds its ring by the thread's ident, so the
executor keys its per-thread tables by ``ident | 2``: never the entry of a name."""

import sys

from shimeji import Executor, core, sleep_ms, yield_now, yielding
from support import needs_extra_threads

IS_MICROPYTHON = sys.implementation.name == "micropython"


def _int_key_entry(k):
    return ((k << 1 | 1) >> 2) % 128  # MAP_CACHE_OFFSET (py/map.c) of a small int's word


def _run_two_workers(tasks=8, most=20000):
    """Two workers polling at once; once both are registered each task records (its thread's
    key, what its yield_now returned, that key's ring and context as the tables hold them)
    at each yield, until both workers have polled a task (or ``most`` yields)."""
    import _thread

    ex = Executor(workers=2, capacity=tasks + 4)
    seen = [None] * 402  # filled under the section, which allocates nothing: on the RP2040
    count = [0]  # an allocation there on core 1 can stop both cores (docs/executor.md, "A
    keys = [None, None, None]  # spawn that allocated inside the section")

    async def task():
        for _ in range(most):
            key = _thread.get_ident() | 2
            registered = bool(yielding._threaded)  # before the call: yield_now reads it first
            aw = yield_now()  # (awaited below: one not awaited leaves an item in the ring)
            # both registered before the call and after it (a worker registering in between
            # made this yield_now hand out the shared ring while the tables already held the
            # thread's own: the test failed 1 run in 3 to 8 on MicroPython)
            if registered and yielding._threaded and (count[0] < 400 or key not in keys):
                rec = (key, aw, yielding._rings.get(key), core._threads.get(key))
                # both workers record: under the section (no GIL on MicroPython's unix
                # port: two stores at once can lose one), into room made beforehand
                with ex.critical_section:
                    i = count[0]
                    if i < len(seen):
                        seen[i] = rec
                        count[0] = i + 1
                    if key not in keys:
                        keys[keys.index(None)] = key
            await aw
            if keys[1] is not None and count[0] >= 40:
                return

    async def main():
        for _ in range(most):  # spawn once worker 1 runs: a late thread found nothing to steal
            if len(core._threads) >= 2:
                break
            await sleep_ms(1)
        hs = [ex.spawn(task()) for _ in range(tasks)]
        for h in hs:
            await h

    ex.run(main())
    return ex, seen[:count[0]]


@needs_extra_threads(1)  # worker 1 on a thread of its own
def test_worker_threads_are_keyed_by_ident_with_bit_1_set():
    ex, seen = _run_two_workers()
    keys = sorted(set(key for key, _, _, _ in seen))
    assert len(keys) == 2, keys  # both workers polled (the tasks were shared)
    contexts = [w._ctx for w in ex.workers]
    for key, returned, ring, ctx in seen:
        assert key & 2 == 2
        assert ctx in contexts  # the thread's own context, found by its key
        if ring is not None:  # MicroPython: the ring yield_now returned is the key's ring's
            assert returned is ring[1]
    assert yielding._rings == {} and core._threads == {}  # both unregistered at the end
    assert [_int_key_entry(k) % 2 for k in keys] == [1, 1]  # odd entries: never a name's


def test_names_and_bit_1_int_keys_never_share_an_entry():
    # The arithmetic the keys rely on, for every name the worker's poll looks up.
    names = ["w", "run_next", "_local_head", "slot", "_inbox_head", "throw_exc", "send",
             "coro", "yield_now"]
    if IS_MICROPYTHON:

        class Probe:
            pass

        p = Probe()
        for n in names:
            setattr(p, n, 1)  # (a short literal may be a heap str; an attribute is a qstr)
        entries = [(id(k) >> 2) % 128 for k in p.__dict__]
        assert len(entries) == len(names)
        assert all(e % 2 == 0 for e in entries), entries
    idents = [0, 1, 0x7F12345678C0, 0x7F12300006C0, 0x3FFB1A40]  # cores, pthreads, a task
    assert all(_int_key_entry(i | 2) % 2 == 1 for i in idents)
    assert len(set(i | 2 for i in idents)) == len(idents)  # one-to-one on aligned idents
