"""Flash and RAM that shimeji costs in a firmware, per subpackage.

Usage: python tools/footprint.py BOARD [--ram] [--port PORT] [--json FILE] [--modules SUB]
                                [--emulated] [--mpy]

Flash: the sizes of the frozen package's symbols in ``build/firmware/BOARD/firmware.elf``
(bytecode or native code, constant tables, raw-code records, module records), read with
``arm-none-eabi-nm`` and attributed to the module whose name they carry. Interned strings
(qstrs) live in one pool shared with every other frozen module: shown once, apart.

RAM (``--ram``, on the booted firmware: qemu, the RP2040 emulator, or ``--port``): the heap
that importing costs, measured after a soft reset each time with ``gc.mem_alloc()``: the
package alone (lazy names, nothing loaded), then each subpackage with every one of its public
names used (what a firmware that uses only ``sync`` pays), then everything; and the heap left
after it (``gc.mem_free()``).

``--modules SUB`` (``make footprint MODULES=shimeji.asyncio``) also prints the flash of each
module of subpackage SUB, and with ``--ram`` the heap each one costs imported alone (with
what it imports).

``--mpy`` (``MPY=1``, rp2040 only): the RAM of the ``.mpy`` deploy path instead of the frozen
package: shimeji compiled with mpy-cross ``-march=armv6m`` as ``make deploy`` does, in ``/lib``
of the flash image the emulator loads (tools/flash_image.py), ``/lib`` ahead of the frozen
copy on ``sys.path``; each row checks that shimeji came from ``/lib``.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import firmware  # noqa: E402

ROOT = firmware.ROOT
PACKAGE = os.path.join(ROOT, "firmware", "shimeji")
PREFIXES = ("fun_data_", "proto_fun_", "children_", "const_obj_table_data_", "const_obj_",
            "const_qstr_table_data_", "frozen_module_", "raw_code_")


def subpackages():
    """``shimeji`` and each subpackage directory, sorted."""
    subs = sorted(d for d in os.listdir(PACKAGE)
                  if os.path.isfile(os.path.join(PACKAGE, d, "__init__.py")))
    return ["shimeji"] + ["shimeji." + d for d in subs]


def frozen_modules(frozen_c):
    """``{mangled name: dotted module}`` of shimeji's frozen modules in frozen_content.c."""
    with open(frozen_c) as f:
        text = f.read()
    mods = {}
    for path in re.findall(r'MICROPY_FROZEN_LIST_ITEM\("[^"]*", "(shimeji/[^"]+)\.py"\)', text):
        mods[path.replace("/", "_")] = path.replace("/", ".").replace(".__init__", "")
    pool = re.search(r"qstr content: (\d+) unique, (\d+) bytes", text)
    return mods, (int(pool.group(1)), int(pool.group(2))) if pool else None


def nm_tool():
    for name in ("arm-none-eabi-nm", "nm"):
        if shutil.which(name):
            return name
    raise SystemExit("nm not found (Debian: binutils-arm-none-eabi)")


def flash_by_module(board, emulated=False):
    """``({module: bytes}, (qstrs, qstr bytes))`` of the firmware built for ``board``
    (``emulated``: stm32's build for qemu, ``make firmware BOARD=stm32 EMULATED=1``)."""
    out_dir = firmware.build_dir(board, emulated)
    elf = os.path.join(out_dir, "firmware.elf")
    mods, pool = frozen_modules(os.path.join(out_dir, "frozen_content.c"))
    names = sorted(mods, key=len, reverse=True)  # longest first: shimeji_sync_mutex before
    sizes = dict.fromkeys(mods.values(), 0)     # shimeji_sync
    proc = subprocess.run([nm_tool(), "-S", elf], capture_output=True, text=True, check=True)
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4 or "shimeji" not in parts[3]:
            continue
        sym = parts[3]
        for prefix in PREFIXES:
            if sym.startswith(prefix):
                rest = sym[len(prefix):]
                for m in names:
                    if rest == m or rest.startswith(m + "_"):
                        sizes[mods[m]] += int(parts[1], 16)
                        break
                break
    return sizes, pool


def group(sizes):
    """Module sizes summed per subpackage (``shimeji`` = the top-level modules)."""
    subs = subpackages()
    out = dict.fromkeys(subs, 0)
    for mod, n in sizes.items():
        parts = mod.split(".")
        key = "shimeji." + parts[1] if len(parts) > 2 or "shimeji." + parts[-1] in out else None
        out[key if key in out else "shimeji"] += n
    return out


def public_names(sub):
    """The names in a package's lazy table (its ``__init__.py``: a tuple of pairs, or a
    dict)."""
    path = os.path.join(PACKAGE, *sub.split(".")[1:], "__init__.py")
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_names":
            table = node.args[1]
            if isinstance(table, ast.Tuple):  # (name, where) pairs: the names, every other
                return [k.value for k in table.elts[::2]]
            if isinstance(table, ast.Dict):
                return [k.value for k in table.keys]
    for node in ast.walk(tree):  # a table built apart (shimeji.asyncio's _names)
        if isinstance(node, ast.Dict) and node.keys and all(
                isinstance(k, ast.Constant) for k in node.keys):
            return [k.value for k in node.keys]
    return []


_MEASURE = """import gc
import sys
%s
gc.collect()
a = gc.mem_alloc()
import %s
m = sys.modules[%r]
missing = []
for n in %r:
    try:
        getattr(m, n)
    except Exception as e:  # a name this firmware cannot load (no socket module, a full heap)
        missing.append('%%s:%%s' %% (n, type(e).__name__))
gc.collect()
print('RAM-BYTES', gc.mem_alloc() - a, gc.mem_free(), ','.join(missing))
print('FROM', sys.modules['shimeji'].__file__)
"""

# --mpy: shimeji from the board's /lib (.mpy files), ahead of the frozen copy (each row then
# checks where it came from: "FROM /lib/shimeji/__init__.mpy"), with gc.threshold(4096) first
# as docs/boards.md tells a main.py on that path (and tools/fwtest.py --mpy) to set it: without
# it the heap's garbage cuts the free heap up before a module's code is placed
FROM_LIB = ("gc.threshold(4096)\n"
            "sys.path[:] = [''] + ['/lib'] + [p for p in sys.path if p not in ('', '/lib')]")


def modules_of(sub):
    """The modules of subpackage ``sub`` (dotted), its ``__init__`` first."""
    where = os.path.join(PACKAGE, *sub.split(".")[1:])
    return [sub] + ["%s.%s" % (sub, n[:-3]) for n in sorted(os.listdir(where))
                    if n.endswith(".py") and n != "__init__.py"]


def ram_rows(detail=None):
    """``{what: (module, names)}``: the rows ``ram_by_subpackage`` measures."""
    rows = {"shimeji (import only)": ("shimeji", [])}
    for sub in subpackages()[1:]:
        rows["%s, every name used" % sub] = (sub, public_names(sub))
    rows["shimeji, every name used"] = ("shimeji", public_names("shimeji"))
    for mod in modules_of(detail) if detail else ():
        rows["%s (import only)" % mod] = (mod, [])
    return rows


def ram_by_subpackage(port, timeout=300, detail=None, from_lib=False):
    """``{what: (bytes, heap free after)}`` measured on the board at ``port`` (a soft reset
    before each); ``from_lib``: shimeji from ``/lib`` (``--mpy``)."""
    import device

    out = {}
    for what, (mod, names) in ram_rows(detail).items():
        code = _MEASURE % (FROM_LIB if from_lib else "", mod, mod, names)
        cmd = [device.mpremote_exe(), "connect", port, "exec", code]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        m = re.search(r"RAM-BYTES (\d+) (\d+) ?(\S*)", proc.stdout)
        where = re.search(r"FROM (\S+)", proc.stdout)
        if m and from_lib and not (where and where.group(1).startswith("/lib/shimeji/")):
            what += " (failed: shimeji from %s, not /lib)" % (where and where.group(1))
            m = None
        elif m and m.group(3):
            what += " (not loadable here: %s)" % m.group(3).replace(",", ", ")
        elif not m:
            what += " (failed: %s)" % (proc.stdout + proc.stderr).strip()[-200:]
        out[what] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return out


def print_flash(board, out=print, detail=None, emulated=False):
    sizes, pool = flash_by_module(board, emulated)
    by_sub = group(sizes)
    out("shimeji in the %s%s firmware, flash per subpackage (bytes, frozen symbols):" % (
        board, " (for qemu)" if emulated else ""))
    for sub, n in by_sub.items():
        out("  %-16s %7d" % (sub, n))
    out("  %-16s %7d" % ("total", sum(by_sub.values())))
    if pool:
        out("  (+ interned strings: one pool of %d qstrs, %d B, shared by every frozen module)"
            % pool)
    if detail:
        out("%s, flash per module:" % detail)
        for mod in modules_of(detail):
            out("  %-34s %7d" % (mod, sizes.get(mod, 0)))
    return by_sub, pool


def print_ram(board, port=None, detail=None, from_lib=False, out=print):
    """Measure and print the RAM rows on the board at ``port``, else on ``board``'s firmware
    booted in its emulator; ``{what: (bytes, free)}``, or None when it could not boot."""
    import emulate

    try:
        if port:
            ram = ram_by_subpackage(port, detail=detail, from_lib=from_lib)
        else:
            if from_lib:
                import fwtest

                fwtest.mpy_image(board)
            with emulate.booted(board) as booted:
                ram = ram_by_subpackage(booted, detail=detail, from_lib=from_lib)
    except emulate.Unavailable as e:
        out("RAM not measured: %s" % e)
        return None
    out("RAM after import (bytes of heap, gc.mem_alloc after a soft reset; then the heap "
        "left, gc.mem_free)%s:" % (", shimeji from /lib/*.mpy" if from_lib else ""))
    for what, (n, free) in ram.items():
        out("  %-44s %7s %7s" % (what, n, free))
    return ram


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "qemu")
    ap.add_argument("--ram", action="store_true", help="boot the firmware and measure RAM")
    ap.add_argument("--port", help="measure RAM on this board instead of booting one")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--modules", metavar="SUB", help="also each module of subpackage SUB "
                    "(shimeji.asyncio, say): flash, and with --ram its import alone")
    ap.add_argument("--emulated", action="store_true", default=os.environ.get(
        "EMULATED", "") not in ("", "0"), help="stm32: the build for qemu's b-l475e-iot01a "
                    "(make firmware BOARD=stm32 EMULATED=1), the one its RAM is measured on")
    ap.add_argument("--mpy", action="store_true", help="rp2040 RAM: shimeji from armv6m .mpy "
                    "files in /lib (the make deploy path), not the frozen copy")
    args = ap.parse_args(argv)
    if args.modules and args.modules not in subpackages():
        ap.error("--modules: one of %s" % ", ".join(subpackages()))
    emulated = args.board == "stm32" and args.emulated
    if not os.path.exists(os.path.join(firmware.build_dir(args.board, emulated),
                                       "firmware.elf")):
        print("skipped: no %s firmware built (make firmware BOARD=%s%s MICROPY_DIR=...)"
              % (args.board, args.board, " EMULATED=1" if emulated else ""))
        return 0
    flash, pool = print_flash(args.board, detail=args.modules, emulated=emulated)
    ram = None
    if args.ram or args.port or args.mpy:
        ram = print_ram(args.board, port=args.port, detail=args.modules, from_lib=args.mpy)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"board": args.board, "flash": flash, "qstr_pool": pool, "ram": ram},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
