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

The model (``HeapModel`` in tools/heap_model.py, pure Python: host_tests/test_tools_heapwhy.py)
follows MicroPython v1.28's ``py/gc.c``: a word keeps a block only if it is the exact address
of the block's head (``gc_get_ptr_area`` and ``AT_HEAD``), a kept block's every word is scanned
(its tail blocks too). The roots are the ESP32 port's ``gc_collect``: ``mp_state_ctx`` from
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

# -- under gdb ------------------------------------------------------------------------------

def _gdb_glue():
    import gdb

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (gdb sources this file)
    from heap_model import HeapModel, report

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
