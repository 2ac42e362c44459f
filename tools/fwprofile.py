"""Where a workload's guest instructions go on the qemu or STM32 firmware, per function.

Usage: python tools/fwprofile.py BOARD --setup FILE --run EXPR [--tasks N] [--lookups]

BOARD ``qemu`` or ``stm32`` (the firmware ``make firmware`` built, ``-icount shift=0``).
``--setup`` runs first (over mpremote, untimed); then qemu's ``exec`` log is switched on through
its monitor only while ``--run`` runs. Each executed translation block's instruction count
(from the ``in_asm`` log) is summed per symbol of the firmware ELF: C functions, and the frozen
native functions (``fun_data_shimeji_*``). "by frozen function" charges every block to the
frozen (native or bytecode) function last entered, so the C helpers it calls count for it.
``--tasks N`` divides by N. ``--lookups`` instead logs the key of every ``mp_map_lookup``
(``-d cpu`` filtered to it) and says which keys were hashed (the lookup cache missed:
``find_qstr`` ran), with names from the build's qstr pools. Logs go to build/fwprofile/.
Needs qemu-system-arm (STM32_QEMU for stm32) and arm-none-eabi-nm. Method: docs/boards.md,
"Spawn on 32-bit, session 5".
"""

import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import device  # noqa: E402
import qemu_boot  # noqa: E402

import firmware  # noqa: E402

ROOT = firmware.ROOT
_TRACE = re.compile(r"Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
_QDEF = re.compile(r'QDEF([01])\(MP_QSTR\w*, \d+, \d+, "(.*)"\)$')


def symbols(elf):
    """(address, size, name) of every defined symbol of ``elf``, sorted by address."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4:
            syms.append((int(p[0], 16), int(p[1], 16), p[3]))
    syms.sort()
    return syms


class SymbolMap:
    def __init__(self, syms):
        self.syms = syms
        self.addrs = [s[0] for s in syms]

    def name(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        if i >= 0 and pc < self.addrs[i] + max(self.syms[i][1], 1):
            return self.syms[i][2]
        return "?"


def read_log(lines):
    """From qemu's ``in_asm`` + ``exec`` log: ({block pc: instructions}, [executed pcs])."""
    sizes = {}
    executed = []
    pc = None
    n = 0
    for line in lines:
        if pc is not None and line.startswith("0x"):
            if n == 0:
                pc = int(line.split(":")[0], 16)
            n += 1
            continue
        if pc is not None and n:
            sizes[pc] = n
            pc = None
        if line.startswith("IN:"):
            pc, n = -1, 0
            continue
        m = _TRACE.match(line)
        if m:
            executed.append(int(m.group(1), 16))
    if pc is not None and n:
        sizes[pc] = n
    return sizes, executed


def profile(symmap, sizes, executed):
    """(instructions per symbol, instructions per frozen function last entered, total)."""
    names = {}
    own = collections.Counter()
    self_ = collections.Counter()
    owner = "?"
    for pc in executed:
        name = names.get(pc)
        if name is None:
            name = names[pc] = symmap.name(pc)
        k = sizes.get(pc, 1)
        self_[name] += k
        if name.startswith("fun_data_") or name == "mp_execute_bytecode":
            owner = name
        own[owner] += k
    return self_, own, sum(self_.values())


def qstr_names(build):
    """Every qstr of a build, by number: the static pools then the frozen one."""
    static = ([], [])
    with open(os.path.join(build, "genhdr", "qstrdefs.generated.h")) as f:
        for line in f:
            m = _QDEF.match(line.strip())
            if m:
                static[int(m.group(1))].append(m.group(2))
    names = static[0] + static[1]
    path = os.path.join(build, "frozen_content.c")
    if os.path.exists(path):
        with open(path) as f:
            src = f.read()
        i = src.find("mp_qstr_frozen_const_pool = {")
        if i >= 0:
            j = src.index("{", src.index("mp_qstr_frozen_const_lengths,", i))
            for line in src[j + 1:src.index("}", j)].splitlines():
                line = line.strip().rstrip(",")
                if line.startswith('"'):
                    names.append(line[1:-1])
    return names


def lookup_stats(lines, lookup_pc, find_pc, names):
    """{(key name, lookup kind): [lookups, hashed]} from a ``-d cpu,exec`` log filtered to
    ``mp_map_lookup`` (its key in r1, its kind in r2) and ``find_qstr`` (a hashed lookup)."""
    stats = collections.defaultdict(lambda: [0, 0])
    cur = None
    pc = None
    for line in lines:
        m = _TRACE.match(line)
        if m:
            pc = int(m.group(1), 16)
            if pc == find_pc and cur is not None:
                stats[cur][1] += 1
                cur = None
            continue
        if pc == lookup_pc and line.startswith("R00="):
            regs = dict(re.findall(r"(R\d\d)=([0-9a-f]+)", line))
            key = int(regs["R01"], 16)
            q = key >> 3
            name = (names[q] if q < len(names) else "qstr %d" % q) if key & 7 == 2 else "obj"
            cur = (name, int(regs["R02"], 16))
            stats[cur][0] += 1
            pc = None
    return dict(stats)


def _monitor(path, command):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    time.sleep(0.3)
    s.recv(4096)
    s.sendall(command.encode() + b"\n")
    time.sleep(0.5)
    s.close()


def run(board, setup, expr, mask_on, mask_off, dfilter=None):
    """Boot ``board``'s firmware, run ``setup`` then ``expr`` with the log on; the log path."""
    emulated = board == "stm32"
    elf = os.path.join(firmware.build_dir(board, emulated), "firmware.elf")
    machine = qemu_boot.STM32_QEMU_MACHINE if emulated else "mps2-an385"
    out = os.path.join(ROOT, "build", "fwprofile")
    os.makedirs(out, exist_ok=True)
    log, mon = os.path.join(out, "qemu.log"), os.path.join(out, "monitor.sock")
    for f in (log, mon):
        if os.path.exists(f):
            os.remove(f)
    cmd = qemu_boot.qemu_command(elf, icount=True, machine=machine)
    cmd[cmd.index("-monitor") + 1] = "unix:%s,server,nowait" % mon
    cmd += ["-d", mask_off, "-D", log] + (["-dfilter", dfilter] if dfilter else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        seen = b""
        while not re.search(rb"redirected to (/dev/pts/\d+)", seen):
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("qemu did not start: %s" % seen.decode(errors="replace"))
            seen += line
        pty = re.search(rb"redirected to (/dev/pts/\d+)", seen).group(1).decode()
        time.sleep(1)
        print(device.mpremote(pty, "exec", setup, timeout=1800).strip())
        _monitor(mon, "log " + mask_on)
        print(device.mpremote(pty, "exec", expr, timeout=1800).strip())
        _monitor(mon, "log " + mask_off)
    finally:
        proc.terminate()
        proc.wait(10)
    return elf, log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", choices=("qemu", "stm32"))
    ap.add_argument("--setup", required=True, help="a script run first, untimed")
    ap.add_argument("--run", required=True, help="the expression profiled, e.g. 'work(10)'")
    ap.add_argument("--tasks", type=int, default=1, help="divide by this (per task figures)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--lookups", action="store_true", help="the map lookups' keys instead")
    args = ap.parse_args(argv)
    with open(args.setup) as f:
        setup = f.read()
    if args.lookups:
        build = firmware.build_dir(args.board, args.board == "stm32")
        syms = {s[2]: s for s in symbols(os.path.join(build, "firmware.elf"))}
        lk, fq = syms["mp_map_lookup"], syms["find_qstr"]
        dfilter = "0x%x+0x%x,0x%x+0x%x" % (lk[0], lk[1], fq[0], fq[1])
        elf, log = run(args.board, setup, args.run, "nochain,exec,cpu", "nochain", dfilter)
        with open(log, errors="replace") as f:
            stats = lookup_stats(f, lk[0], fq[0], qstr_names(build))
        print("lookups %d, hashed %d (per %d)" % (sum(v[0] for v in stats.values()),
                                                  sum(v[1] for v in stats.values()), args.tasks))
        for (name, kind), (n, hashed) in sorted(stats.items(), key=lambda kv: -kv[1][1])[
                :args.top]:
            print("%8d %8d  %s (%s)" % (n, hashed, name, ("lookup", "store", "remove")[kind]
                                        if kind < 3 else kind))
        return 0
    elf, log = run(args.board, setup, args.run, "in_asm,nochain,exec", "in_asm,nochain")
    with open(log, errors="replace") as f:
        sizes, executed = read_log(f)
    self_, own, total = profile(SymbolMap(symbols(elf)), sizes, executed)
    per = args.tasks
    print("%d guest instructions, %d per task" % (total, total // per))
    for title, counts in (("by function", self_), ("by frozen function", own)):
        print(title)
        for name, n in counts.most_common(args.top):
            print("%9d %5.1f%%  %s" % (n // per, 100.0 * n / total, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
