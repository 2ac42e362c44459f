"""tools/heapwhy.py's model of MicroPython v1.28's mark phase (``py/gc.c``): the heap as the
collector sees it (``HeapModel``), each kept object's chain of referrers back to its root
(``report``). Pure Python, on the areas' bytes that gdb reads from a board."""

import struct

BYTES_PER_BLOCK = 16
AT_FREE, AT_HEAD, AT_TAIL, AT_MARK = 0, 1, 2, 3


class HeapModel:
    """The GC heap as the collector sees it. ``areas``: (pool_start, pool_end, alloc table
    bytes, pool bytes) each (MicroPython's split heap has several)."""

    def __init__(self, areas):
        self.areas = list(areas)

    def _area(self, p):
        if p & (BYTES_PER_BLOCK - 1):
            return None
        for ar in self.areas:
            if ar[0] <= p < ar[1]:
                return ar
        return None

    @staticmethod
    def _kind(ar, blk):
        return (ar[2][blk >> 2] >> (2 * (blk & 3))) & 3

    def kind(self, p):
        ar = self._area(p)
        return None if ar is None else self._kind(ar, (p - ar[0]) // BYTES_PER_BLOCK)

    def is_head(self, p):
        """An exact pointer to an allocated block's head (marked or not): what keeps it."""
        return self.kind(p) in (AT_HEAD, AT_MARK)

    def size(self, p):
        ar = self._area(p)
        blk = (p - ar[0]) // BYTES_PER_BLOCK
        n, nb = 1, len(ar[2]) * 4
        while blk + n < nb and self._kind(ar, blk + n) == AT_TAIL:
            n += 1
        return n * BYTES_PER_BLOCK

    def words(self, p):
        ar = self._area(p)
        off = p - ar[0]
        n = self.size(p)
        return struct.unpack("<%dI" % (n // 4), ar[3][off:off + n])

    def word(self, a):
        for ar in self.areas:
            if ar[0] <= a < ar[1]:
                return struct.unpack("<I", ar[3][a - ar[0]:a - ar[0] + 4])[0]
        return None

    def marked(self):
        return {ar[0] + b * BYTES_PER_BLOCK for ar in self.areas
                for b in range(len(ar[2]) * 4) if self._kind(ar, b) == AT_MARK}

    def reach(self, roots, reached=None):
        """Mark from ``roots`` (label, word) as the collector does; returns {head: (parent
        head or None, byte offset in the parent or the root's label)}, breadth first, so each
        block's chain is a shortest one."""
        reached = {} if reached is None else reached
        todo = []
        for label, w in roots:
            if w not in reached and self.is_head(w):
                reached[w] = (None, label)
                todo.append(w)
        i = 0
        while i < len(todo):
            p = todo[i]
            i += 1
            for j, w in enumerate(self.words(p)):
                if w not in reached and self.is_head(w):
                    reached[w] = (p, 4 * j)
                    todo.append(w)
        return reached

    def chain(self, reached, target):
        """[(parent, offset, child)] from the root to ``target``; the first has parent None and
        the root's label as its offset."""
        out = []
        p = target
        while True:
            parent, how = reached[p]
            out.append((parent, how, p))
            if parent is None:
                return list(reversed(out))
            p = parent

    def referrers(self, target):
        """(head, offset) of every allocated block holding ``target``'s exact address."""
        out = []
        for ar in self.areas:
            ws = struct.unpack("<%dI" % (len(ar[3]) // 4), ar[3])
            for i, w in enumerate(ws):
                if w == target:
                    blk = i * 4 // BYTES_PER_BLOCK
                    while blk > 0 and self._kind(ar, blk) == AT_TAIL:
                        blk -= 1
                    if self._kind(ar, blk) != AT_FREE:
                        h = ar[0] + blk * BYTES_PER_BLOCK
                        out.append((h, ar[0] + 4 * i - h))
        return out


def slot_name(model, parent, off, qstr):
    """A map table's key for the value at parent+off (REPR_A: a qstr is (q << 3) | 2), else
    the offset."""
    if off % 8 == 4:
        k = model.word(parent + off - 4)
        if k is not None and k & 7 == 2:
            name = qstr(k >> 3)
            if name:
                return "[%r]" % name
    return "+%d" % off


def report(model, groups, targets, describe, qstr, out=print):
    """Print, for each (address, label) target, whether the collector marked it and its chain
    from each root group that reaches it. ``groups``: (name, [(label, word)])."""
    everything = {}
    for _name, roots in groups:
        model.reach(roots, everything)
    marks = model.marked()
    out("heapwhy: model reaches %d blocks, the collector marked %d (marked, not reached: %d;"
        " reached, not marked: %d)" % (len(everything), len(marks), len(marks - set(everything)),
                                       len(set(everything) - marks)))
    for t, label in targets:
        out("== %#x %s: %s, marked %s" % (t, label, describe(t) if model.is_head(t) else
                                          "no block head", t in marks))
        if t not in everything:
            continue
        for name, roots in groups:
            reached = model.reach(roots)
            if t not in reached:
                continue
            out(" from %s:" % name)
            for parent, how, child in model.chain(reached, t):
                if parent is None:
                    out("   %s -> %#x %s" % (how, child, describe(child)))
                else:
                    out("   %#x %s %s -> %#x %s" % (parent, describe(parent),
                                                  slot_name(model, parent, how, qstr), child,
                                                  describe(child)))
