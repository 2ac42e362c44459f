# Which 64-byte cache lines hold objects that two executor workers touch at every task switch
# (docs/executor.md, "Cache lines of their own"). MicroPython unix port only (id() is an
# address there; uctypes reads the tables and arrays behind an object):
#   MICROPYPATH=firmware micropython tools/layout_audit.py [SHIFT]
# SHIFT one-block objects are allocated first, so everything after lands SHIFT blocks on: a
# perturbation of the layout like an unrelated change elsewhere in the program. 64 tasks of
# the bench's chunks run on 2 workers; halfway through, each task records what its poll
# touches (its slot and slot table, its coroutine, its worker's ring), each worker what its
# loop touches (its table, run queue, context, Tick, timer), and the shared objects every
# yield_now reads (_threaded and its items, the bound _rings.get, _rings and its table, the
# task's code and globals). A line shared by objects of two workers, or by a shared object
# and a worker's, is printed; the last line counts them, "placed" being lines.py's objects.
import sys

SHIFT = int(sys.argv[1]) if len(sys.argv) > 1 else 0
_shift = [(None, None) for _ in range(SHIFT)]  # (each 2-tuple: one block)

import uctypes  # noqa: E402

from shimeji import Executor, core, yield_now, yielding  # noqa: E402
from shimeji import lines as lines_mod  # noqa: E402

LINE = 64
W = 8


def word(a):
    return int.from_bytes(uctypes.bytearray_at(a, W), "little")


def inst(name, obj, out):  # an instance: its object and its attribute table
    a = id(obj)
    out.append((name, a, 32))
    if word(a + 3 * W):
        out.append((name + ".table", word(a + 3 * W), word(a + 2 * W) * 16))


def ring(name, r, out):  # a yield_now ring (append, iterator): tuple, method, iterator, deque
    for a, n in lines_mod.ring_extents(r):
        out.append((name, a, n))


TASKS = 64
CHUNKS = 300
per_worker = [[], []]
shared = []


async def compute(i):
    s = 0
    for k in range(CHUNKS):
        for j in range(40):
            s += j ^ k
        if k == CHUNKS // 2:
            ctx = core.current_context()
            w = [x.index for x in ex.workers if x._ctx is ctx][0]
            out = per_worker[w]
            inst("slot%d" % i, ctx.slot, out)
            out.append(("coro%d" % i, id(ctx.slot.coro), 224))
            ring("ring%d" % w, ctx.ring, out)
            if not shared:
                for a, n in lines_mod.list_extents(yielding._threaded):
                    shared.append(("placed:_threaded", a, n))
                shared.append(("placed:_rings.get", id(yielding._threaded[0]), 32))
                for a, n in lines_mod.dict_extents(yielding._rings):
                    shared.append(("placed:_rings", a, n))
        await yield_now()
    return s


ex = Executor(workers=2, capacity=TASKS + 8)


async def main():
    for h in [ex.spawn(compute(i)) for i in range(TASKS)]:
        await h


ex.run(main())
for w in ex.workers:
    for name, obj in (("", w), (".fifo", w._fifo), (".ctx", w._ctx), (".tick", w._tick),
                      (".timer", w.timer)):
        inst("w%d%s" % (w.index, name), obj, per_worker[w.index])
f = compute
shared.append(("code", id(f), 32))
shared.append(("code.bytecode", word(id(f) + 3 * W), 256))
g = globals()
shared.append(("globals", id(g), 32))
shared.append(("globals.table", word(id(g) + 3 * W), word(id(g) + 2 * W) * 16))


def by_line(objs):
    d = {}
    for name, a, n in objs:
        for ln in range(a // LINE, (a + n - 1) // LINE + 1):
            d.setdefault(ln, set()).add(name)
    return d


l0, l1, ls = by_line(per_worker[0]), by_line(per_worker[1]), by_line(shared)
placed = other = 0
for ln in sorted(set(l0) | set(l1) | set(ls)):
    sides = [s for s in (l0.get(ln), l1.get(ln), ls.get(ln)) if s]
    if len(sides) < 2:
        continue
    if any(n.startswith("placed:") for s in sides for n in s):
        placed += 1
    else:
        other += 1
    print("line %x: %s" % (ln * LINE, " | ".join(",".join(sorted(s)) for s in sides)))
print("SUMMARY shift=%d placed=%d other=%d polled=%s" % (SHIFT, placed, other,
                                                         [w.polled for w in ex.workers]))
