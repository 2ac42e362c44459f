"""Why is a MicroPython heap object still alive? A model of the collector's mark phase, read
from a board held by gdb, that names each object's chain of referrers back to its root.

Usage (the ESP32-C3 firmware in Espressif's qemu, ``ESP32_QEMU``; Debian's gdb-multiarch):
    python tools/heapwhy.py SCENARIO.py [--mount] [--log PREFIX]
boots ``build/firmware/esp32-c3/firmware.bin`` (``-icount``, qemu's ``-gdb``), attaches
gdb-multiarch with ``micropython.elf``, sources this file there (``heapwhy-arm``: a breakpoint
on ``gc_collect_end``), and runs SCENARIO.py on the board over the raw REPL (``--mount``: the
checkout mounted at /remote, as ``make test-firmware`` does). The scenario gets three names:
``why(obj, label)`` records an object (its address inverted, so the record is no pointer),
``arm()`` asks for an analysis at the next collection's end, ``reset()`` forgets the records.
What gdb prints goes to PREFIX-gdb.log (build/heapwhy-gdb.log): for each recorded object
whether the collector marked it and, per root group, the shortest chain of blocks from the
root to it.

The model (``HeapModel``, pure Python: host_tests/test_tools_heapwhy.py) follows MicroPython
v1.28's ``py/gc.c``: a word keeps a block only if it is the exact address of the block's head
(``gc_get_ptr_area`` and ``AT_HEAD``), a kept block's every word is scanned (its tail blocks
too). The roots are the ESP32 port's ``gc_collect``: ``mp_state_ctx`` from
``thread.dict_locals`` to ``vm.qstr_last_chunk``, the collecting thread's stack from its sp to
its ``stack_top``, and ``mp_thread_gc_others``: each ``mp_thread_t`` and its ``arg``, and the
*whole* stack of every other running thread. At ``gc_collect_end`` the marks are set, so the
model's reach is checked against the collector's (printed: a model that reaches what the
collector did not mark is a root set drawn too wide, never a missed referrer).
"""

import argparse
import os
import re
import signal
import struct
import subprocess
import sys
import time

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


# -- under gdb ------------------------------------------------------------------------------

def _gdb_glue():
    import gdb

    inf = gdb.selected_inferior()

    def read(a, n):
        return bytes(inf.read_memory(a, n))

    def u32(a):
        return struct.unpack("<I", read(a, 4))[0]

    def ev(expr):
        return gdb.parse_and_eval(expr)

    def load():
        areas = []
        a = ev("&mp_state_ctx.mem.area")
        while int(a):
            ar = a.dereference()
            ps, pe = int(ar["gc_pool_start"]), int(ar["gc_pool_end"])
            areas.append((ps, pe, read(int(ar["gc_alloc_table_start"]),
                                       int(ar["gc_alloc_table_byte_len"])), read(ps, pe - ps)))
            a = ar["next"]
        return HeapModel(areas)

    qcache = {}

    def qstr(q):
        if q not in qcache:
            pool, s = ev("mp_state_ctx.vm.last_pool"), None
            while int(pool):
                p = pool.dereference()
                if q >= int(p["total_prev_len"]):
                    if q - int(p["total_prev_len"]) < int(p["len"]):
                        s = p["qstrs"][q - int(p["total_prev_len"])].string()
                    break
                pool = p["prev"]
            qcache[q] = s
        return qcache[q]

    def sym(a):
        try:
            s = gdb.execute("info symbol %#x" % a, to_string=True).strip()
        except gdb.error:
            return None
        return None if s.startswith("No symbol") else s.split(" in section")[0]

    def describer(model):
        def word(a):
            w = model.word(a)
            return u32(a) if w is None else w

        def describe(p):
            n = model.size(p)
            t = word(p)
            s = sym(t) or ""
            if s.startswith("mp_type_") and "+" not in s:
                if s == "mp_type_type":
                    return "class %s (%d B)" % (qstr(word(p + 6) & 0xFFFF), n)
                return "%s (%d B)" % (s[8:], n)
            if model.is_head(t) and sym(word(t)) == "mp_type_type":  # a class made at run time
                return "%s instance (%d B)" % (qstr(word(t + 6) & 0xFFFF), n)
            return "raw %d B" % n
        return describe

    def name_of(tcb):
        try:
            return ev("((TCB_t*)%d)->pcTaskName" % tcb).string()
        except gdb.error:
            return "?"

    def groups():
        ctx = int(ev("(unsigned)&mp_state_ctx"))
        lo = int(ev("(unsigned)&mp_state_ctx.thread.dict_locals"))
        hi = int(ev("(unsigned)&mp_state_ctx.vm.qstr_last_chunk"))
        out = [("mp_state_ctx's roots", [(field(lo + 4 * i - ctx), w) for i, w in enumerate(
            struct.unpack("<%dI" % ((hi - lo) // 4), read(lo, hi - lo)))])]
        sp = int(ev("$sp"))
        th, k = ev("thread"), 0
        while int(th):
            t = th.dereference()
            tcb, lo = int(t["id"]), int(t["stack"])
            hi = lo + 4 * int(t["stack_len"])
            name = "%s#%d" % (name_of(tcb), k)
            out.append(("the thread entry of %s" % name,
                        [("&th of " + name, int(th)), ("th->arg of " + name, int(t["arg"]))]))
            if lo <= sp < hi:  # the collecting thread: from sp to its stack_top
                top = u32(int(ev("((TCB_t*)%d)->pvThreadLocalStoragePointers[1]" % tcb)))
                lo = sp
                hi = top
                what = "the collecting thread %s's stack, sp to top" % name
            elif int(t["run_state"]) == 1:
                what = "the whole stack of %s" % name
            else:
                lo = hi
            if hi > lo:
                ws = struct.unpack("<%dI" % ((hi - lo) // 4), read(lo, hi - lo))
                out.append(("%s (%d B)" % (what, hi - lo), [
                    ("%s, top-%#x" % (name, hi - lo - 4 * i), w) for i, w in enumerate(ws)]))
            th, k = t["next"], k + 1
        return out

    def field(off):
        tp, base, path = gdb.lookup_type("mp_state_ctx_t"), 0, "mp_state_ctx"
        while True:
            tp = tp.strip_typedefs()
            if tp.code == gdb.TYPE_CODE_ARRAY:
                es = tp.target().strip_typedefs().sizeof
                i = (off - base) // es
                tp, base, path = tp.target(), base + i * es, path + "[%d]" % i
                continue
            if tp.code != gdb.TYPE_CODE_STRUCT:
                return path + ("+%d" % (off - base) if off != base else "")
            for f in tp.fields():
                fo = base + f.bitpos // 8
                if fo <= off < fo + f.type.strip_typedefs().sizeof:
                    tp, base, path = f.type, fo, path + "." + f.name
                    break
            else:
                return path + "+%d" % (off - base)

    class Armed(gdb.Breakpoint):
        buffer_file = None
        items = None

        def stop(self):
            if Armed.items is None:
                if not os.path.exists(Armed.buffer_file):
                    return False
                obj = int(open(Armed.buffer_file).read().split()[0], 16)
                Armed.items = u32(obj + 12)  # mp_obj_array_t: base, typecode|free, len, items
            armed, n = struct.unpack("<II", read(Armed.items + 8, 8))
            if armed != 1:
                return False
            ws = struct.unpack("<%dI" % n, read(Armed.items + 16, 4 * n)) if n else ()
            model = load()
            try:
                report(model, groups(), [((~w) & 0xFFFFFFFF, "#%d" % i)
                                         for i, w in enumerate(ws)], describer(model), qstr)
            except Exception as e:  # noqa: BLE001 - the board must go on whatever this did
                print("heapwhy: failed: %r" % (e,))
            inf.write_memory(Armed.items + 8, struct.pack("<I", 2))
            print("heapwhy: done")
            sys.stdout.flush()
            return False

    class Arm(gdb.Command):
        """heapwhy-arm FILE: analyse at gc_collect_end once the board's buffer (its address in
        FILE) is armed."""

        def __init__(self):
            gdb.Command.__init__(self, "heapwhy-arm", gdb.COMMAND_USER)

        def invoke(self, arg, from_tty):
            Armed.buffer_file = arg.strip()
            Armed("gc_collect_end")

    Arm()


# -- the runner -----------------------------------------------------------------------------

PRELUDE = """
import struct
WHY = bytearray(b"HEAPWHY!" + bytes(8 + 4 * 128))
def why(obj, label=""):
    n = struct.unpack_from("<I", WHY, 12)[0]
    struct.pack_into("<I", WHY, 16 + 4 * n, id(obj) ^ 0xFFFFFFFF)
    struct.pack_into("<I", WHY, 12, n + 1)
    print("WHY #%d %s" % (n, label))
def arm():
    struct.pack_into("<I", WHY, 8, 1)
def reset():
    struct.pack_into("<II", WHY, 8, 0, 0)
print("WHYBUF %x" % id(WHY))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--mount", action="store_true", help="mount the checkout at /remote")
    ap.add_argument("--log", help="PREFIX of the -gdb.log file (default: build/heapwhy)")
    args = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    if args.log is None:
        os.makedirs(os.path.join(root, "build"), exist_ok=True)
        args.log = os.path.join(root, "build", "heapwhy")
    sys.path.insert(0, here)
    import qemu_boot
    from mpremote.transport_serial import SerialTransport

    build = os.path.join(root, "build", "firmware", "esp32-c3")
    flash = qemu_boot.esp32c3_flash(os.path.join(build, "firmware.bin"),
                                    os.path.join(build, "heapwhy-flash.bin"))
    port = qemu_boot.free_tcp_port()
    plain = qemu_boot.qemu_command
    qemu_boot.qemu_command = lambda *a, **k: plain(*a, **k) + ["-gdb", "tcp:127.0.0.1:%d" % port]
    buffer_file = args.log + "-buffer.txt"
    if os.path.exists(buffer_file):
        os.remove(buffer_file)
    board = qemu_boot.QemuBoard(flash, icount=True, machine="esp32c3").start()
    gdb = None
    try:
        gdb = subprocess.Popen(
            ["gdb-multiarch", "-q", "-nx", "-batch", os.path.join(build, "micropython.elf"),
             "-ex", "set pagination off", "-ex", "target remote 127.0.0.1:%d" % port,
             "-ex", "source %s" % os.path.abspath(__file__),
             "-ex", "heapwhy-arm %s" % buffer_file, "-ex", "continue"],
            stdout=open(args.log + "-gdb.log", "w"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(8)  # gdb attached and the board running again
        t = SerialTransport(board.path, baudrate=115200)
        t.enter_raw_repl(soft_reset=False, timeout_overall=60)
        if args.mount:
            t.mount_local(root)
        out = t.exec(PRELUDE).decode(errors="replace")
        with open(buffer_file + ".tmp", "w") as f:
            f.write(re.search(r"^WHYBUF ([0-9a-f]+)", out, re.M).group(1) + "\n")
        os.rename(buffer_file + ".tmp", buffer_file)
        with open(args.scenario) as f:
            print(t.exec(f.read()).decode(errors="replace"), flush=True)
        time.sleep(3)
        if args.mount:
            t.umount_local()
        t.exit_raw_repl()
        t.close()
    finally:
        if gdb is not None and gdb.poll() is None:
            os.killpg(gdb.pid, signal.SIGTERM)
            gdb.wait(10)
        board.stop()
    print("gdb's analysis: %s-gdb.log" % args.log)


if "gdb" in sys.modules and __name__ == "__main__":  # sourced by gdb
    _gdb_glue()
elif __name__ == "__main__":
    sys.exit(main())
