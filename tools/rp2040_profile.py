"""Where a workload's cycles go on the RP2040 firmware in rp2040js, per function.

Usage: python tools/rp2040_profile.py --setup FILE --run CODE [--base CODE] [--tasks N]
       [--top N] [--owner NAME] [--callers F,G] [--json FILE]

Boots build/firmware/rp2040/firmware.uf2 in rp2040js with tools/rp2040_profile.mjs hooked in
(``RP2040_PROFILE``), runs ``--setup`` (over mpremote, not counted), then ``--run`` with GPIO
21 driven high around it (``--prepare``, a collection by default, before it, not counted):
the emulator counts the instructions and cycles of every PC while the pin is high
(interrupts included), each charged to the frozen function that owns it now, the last one
entered: a native or viper function (``fun_data_*`` of the frozen module, run in place) by
its first instruction run, a bytecode function by the VM's first byte load of its opcodes
(the call's prelude, each opcode fetched), and bytecode compiled at run time (in the heap:
the workload's own functions) by the VM's byte loads from RAM. ``--base`` is run the same
way first and subtracted (e.g. the same workload with fewer tasks: what is left is per-task
work, without the set-up); ``--tasks N`` divides by N. Prints the totals (cycles, and
emulated ns at 125 MHz: 8 ns a cycle), then the cycles per C function (self, with
instructions and cycles per instruction), per owner (the frozen function and what it
calls), with ``--owner NAME`` (a part of the owner's name) the C functions charged to those
owners, and with ``--callers`` who called each of those functions (the return address at
its entry) and how often. Symbols from the ELF (arm-none-eabi-nm); native or bytecode from
the build's frozen_content.c. rp2040js charges flash what it charges RAM (no XIP cache, no
wait states): placing code in RAM changes nothing here, only on a chip. Without the firmware
or the emulator it says why and exits 0. Method and a profile: docs/boards.md, "RP2040,
session 26".
"""

import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import device  # noqa: E402
import emulate  # noqa: E402
import fwprofile  # noqa: E402

ROOT = emulate.ROOT
PIN = 21
NS_PER_CYCLE = 8  # 125 MHz
_NATIVE = re.compile(r"^static const byte (fun_data_\w+)\[\d+\] "
                     r"__attribute__\(\(section\(\"\.text")


def owners(build, syms):
    """[(start, end, kind, name)]: every frozen function's code (c: native or viper, run in
    place) or bytecode (b: read by the VM), from the ELF's symbols and frozen_content.c; and
    the VM's own code (r: its byte loads from RAM, bytecode compiled at run time)."""
    native = set()
    path = os.path.join(build, "frozen_content.c")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                m = _NATIVE.match(line)
                if m:
                    native.add(m.group(1))
    out = []
    for addr, size, name in syms:
        if name == "mp_execute_bytecode":
            out.append((addr, addr + size, "r", "(bytecode compiled at run time)"))
        if name.startswith("fun_data_") and size and not name.endswith("_prelude"):
            out.append((addr, addr + size, "c" if name in native else "b", name))
    return out


def tally(rows, symmap, names):
    """Counters from the emulator's [owner, pc, instructions, cycles] rows: (self cycles and
    instructions per C symbol, cycles per owner, cycles per (owner, symbol))."""
    cyc, ins = collections.Counter(), collections.Counter()
    own, pairs = collections.Counter(), collections.Counter()
    cache = {}
    for o, pc, n, c in rows:
        sym = cache.get(pc)
        if sym is None:
            sym = "bootrom" if pc < 0x4000 else symmap.name(pc)
            if sym == "?":
                sym = "? %x" % (pc & ~0xFF)
            cache[pc] = sym
        owner = names[o] if 0 <= o < len(names) else "(none yet)"
        cyc[sym] += c
        ins[sym] += n
        own[owner] += c
        pairs[(owner, sym)] += c
    return cyc, ins, own, pairs


def minus(a, b):
    """Rows of ``a`` less those of ``b`` (same keys), for --base."""
    left = collections.defaultdict(lambda: [0, 0])
    for o, pc, n, c in a:
        left[(o, pc)][0] += n
        left[(o, pc)][1] += c
    for o, pc, n, c in b:
        left[(o, pc)][0] -= n
        left[(o, pc)][1] -= c
    return [[o, pc, n, c] for (o, pc), (n, c) in left.items() if n or c]


def short(name):
    return name[len("fun_data_"):] if name.startswith("fun_data_") else name


def callers(snap, base, symmap, names, per, top):
    """Print who called each watched function (--callers): caller symbol and owner, calls."""
    calls = collections.Counter()
    for rows, sign in ((snap.get("callers", []), 1),
                       (base.get("callers", []) if base else [], -1)):
        for pc, lr, o, n in rows:
            owner = names[o] if 0 <= o < len(names) else "(none yet)"
            calls[(symmap.name(pc), symmap.name(lr), owner)] += sign * n
    print("callers (calls per task)")
    for (fn, caller, owner), n in calls.most_common(top):
        print("%9.2f  %s <- %s <- %s" % (n / per, fn, caller, owner))


def run(setup, codes, owners_file, out, prepare, watch=""):
    """Boot the firmware with the profiler, run ``setup``, then each of ``codes`` between the
    pin's edges (``prepare`` before each, not counted); the emulator's JSON after each."""
    os.environ.update(RP2040_PROFILE=out, RP2040_PROFILE_PIN=str(PIN),
                      RP2040_PROFILE_OWNERS=owners_file, RP2040_PROFILE_CALLERS=watch)
    image = emulate.firmware_image("rp2040", "")
    emu = emulate.Rp2040Emulator(image, timeout=300.0)
    emu.start()
    snaps = []
    try:
        pin = "import machine\n_prof_pin = machine.Pin(%d, machine.Pin.OUT)\n_prof_pin(0)\n" % PIN
        print(device.mpremote(emu.path, "exec", setup + "\n" + pin, timeout=1800).strip())
        for code in codes:
            device.mpremote(emu.path, "exec", prepare, timeout=600)
            print(device.mpremote(emu.path, "exec", "_prof_pin(1)\n%s\n_prof_pin(0)" % code,
                                  timeout=3600).strip())
            with open(out) as f:
                snaps.append(json.load(f))
    finally:
        emu.stop()
    return snaps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setup", required=True, help="a script run first, not counted")
    ap.add_argument("--run", required=True, help="the code profiled, e.g. 'work(100)'")
    ap.add_argument("--base", help="code profiled first and subtracted, e.g. 'work(50)'")
    ap.add_argument("--prepare", default="gc.collect()",
                    help="run before each, not counted (default: a collection)")
    ap.add_argument("--tasks", type=int, default=1, help="divide by this (per task figures)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--owner", help="the C functions charged to owners named with this")
    ap.add_argument("--callers", help="functions (names or 0x addresses, comma-separated): "
                    "who calls them, per task")
    ap.add_argument("--json", help="write the per-task tallies here")
    args = ap.parse_args(argv)
    build = os.path.join(ROOT, "build", "firmware", "rp2040")
    elf = os.path.join(build, "firmware.elf")
    try:
        emulate.rp2040js_dir()
        if not os.path.exists(elf):
            raise emulate.Unavailable("no %s: make firmware BOARD=rp2040 first" % elf)
        syms = fwprofile.symbols(elf)
    except (emulate.Unavailable, OSError) as e:
        print("skipped: %s" % e)
        return 0
    table = owners(build, syms)
    work = os.path.join(ROOT, "build", "rp2040_profile")
    os.makedirs(work, exist_ok=True)
    owners_file = os.path.join(work, "owners.txt")
    with open(owners_file, "w") as f:
        for start, end, kind, _ in table:
            f.write("%x %x %s\n" % (start, end, kind))
    with open(args.setup) as f:
        setup = f.read()
    codes = ([args.base] if args.base else []) + [args.run]
    entry = {s[2]: s[0] for s in syms}
    try:
        watch = ",".join("%x" % (int(n, 16) if n.startswith("0x") else entry[n])
                         for n in args.callers.split(",")) if args.callers else ""
    except KeyError as e:
        raise SystemExit("no symbol %s in %s" % (e, elf)) from e
    snaps = run(setup, codes, owners_file, os.path.join(work, "profile.json"),
                "import gc\n" + args.prepare, watch)
    rows = snaps[-1]["rows"]
    if args.base:
        rows = minus(rows, snaps[0]["rows"])
    print("emulated ns between the pin's edges: %s" % ", ".join(
        "%s %d" % (c, snap["nanos"]) for c, snap in zip(codes, snaps)))
    names = [short(t[3]) for t in table]
    cyc, ins, own, pairs = tally(rows, fwprofile.SymbolMap(syms), names)
    per = args.tasks
    total_c, total_i = sum(cyc.values()), sum(ins.values())
    print("%d cycles (%d ns emulated), %d instructions; per task %d cycles (%d ns), %d "
          "instructions" % (total_c, total_c * NS_PER_CYCLE, total_i, total_c // per,
                            total_c * NS_PER_CYCLE // per, total_i // per))
    print("by function (self): cycles, %, instructions, cycles per instruction")
    for name, c in cyc.most_common(args.top):
        print("%9d %5.1f%% %9d %5.2f  %s" % (c // per, 100.0 * c / total_c, ins[name] // per,
                                            c / max(ins[name], 1), name))
    print("by frozen function (what it runs and calls): cycles, %")
    for name, c in own.most_common(args.top):
        print("%9d %5.1f%%  %s" % (c // per, 100.0 * c / total_c, name))
    if args.owner:
        print("charged to owners named *%s*" % args.owner)
        sub = collections.Counter({k: v for k, v in pairs.items() if args.owner in k[0]})
        for (o, sym), c in sub.most_common(args.top):
            print("%9d %5.1f%%  %s <- %s" % (c // per, 100.0 * c / total_c, sym, o))
    if args.callers:
        callers(snaps[-1], snaps[0] if args.base else None, fwprofile.SymbolMap(syms), names,
                per, args.top)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tasks": per, "cycles": total_c, "instructions": total_i,
                       "self": dict(cyc), "owners": dict(own)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
