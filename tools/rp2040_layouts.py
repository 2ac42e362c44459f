"""The RP2040 bench over qstr layouts: each row's mean, least and most over several builds.

Usage: python tools/rp2040_layouts.py --micropy-dir DIR [--only spawn]
       [--layouts 0,s5,s17,s40] [--build-dir DIR] [--json FILE]

Why: MicroPython's map look-up cache (``MICROPY_OPT_MAP_LOOKUP_CACHE``) keeps, per entry,
where a name was last found in any map; the entry is picked by the name's qstr number
(``(qstr << 3 | 2) >> 2`` modulo the size: every other entry, 64 of the port's 128). The
frozen qstr pool is sorted by name, so a change that adds one frozen name renumbers every
later one and moves which hot names share an entry: with 128 entries the RP2040's rows moved
by up to 5 % with no code change (docs/boards.md, "RP2040, session 24"). This tool builds the
same firmware at several *layouts* by freezing a module of unused names (``AAAApad.py``):

- ``N`` (a number, 0-63): N names that sort before every frozen identifier (``AAAA000`` ...,
  and the module's file name): every frozen name, and every name interned at run time, is
  renumbered by N; ``0`` freezes nothing. Which frozen names share an entry stays the same.
- ``sN``: N names spread evenly through the pool (the Kth identifier's ``name0``), and the
  file name: the names between two of them move by 1 to N+1, as an edit's new names do.
  The pool is read from the last build's ``frozen_content.c``.

It runs ``tools/fwbench.py``'s workloads on each image in rp2040js (one emulator at a time)
and prints each row's mean, least and most: what the unix port's ``tools/instr.py --layouts``
does by interning names first. Needs what ``make firmware BOARD=rp2040`` needs
(``PICOTOOL_DIR``, a MicroPython tree) and ``RP2040JS_DIR``; without them it says why and
exits 0. Builds go to build/firmware/rp2040-layouts (the first in full, ~3 min; then only
the frozen modules, seconds).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emulate  # noqa: E402
import fwbench  # noqa: E402
import rp2040_build  # noqa: E402
from emulated_images import Unavailable  # noqa: E402

ROOT = emulate.ROOT
BUILD = os.path.join(ROOT, "build", "firmware", "rp2040-layouts")
BOARD_MANIFEST = os.path.join(ROOT, "boards", "rp2040", "manifest.py")
LAYOUTS = ("0", "s5", "s17", "s40")
PAD_MODULE = "AAAApad"  # (its file name is a frozen qstr too: 1 of the shift)
_POOL = re.compile(r"mp_qstr_frozen_const_pool = \{(.*?)\n\};", re.S)
_POOL_STR = re.compile(r'^\s+"(.*)",$', re.M)


def parse_layout(text):
    """``("front", N)`` for ``N``, ``("spread", N)`` for ``sN``; ValueError otherwise."""
    spread = text.startswith("s")
    n = int(text[1:] if spread else text)
    if spread and not 1 <= n <= 200:
        raise ValueError("a spread layout sN takes N from 1 to 200, not %s" % text)
    if not spread and not 0 <= n < 64:
        raise ValueError("a front shift is 0..63 (64 gives 0's cache entries), not %s" % text)
    return ("spread" if spread else "front", n)


def pool_names(frozen_content):
    """The frozen qstr pool's strings, in order, from a build's ``frozen_content.c``."""
    m = _POOL.search(frozen_content)
    return _POOL_STR.findall(m.group(1)) if m else []


def spread_names(pool, n, ours=()):
    """``n`` unused names spread evenly through ``pool``'s identifiers (not ``ours``, the
    last pad's): each is an identifier with ``0`` added, which sorts right after it."""
    taken = set(pool) - set(ours)  # (the last pad's names go: this one replaces it)
    idents = [p for p in pool if p.isidentifier() and p not in ours
              and not p.startswith("AAAA")]
    names = []
    for i in range(n):
        name = idents[(2 * i + 1) * len(idents) // (2 * n)] + "0"
        while name in taken:
            name += "0"
        taken.add(name)
        names.append(name)
    return names


def pad_source(front, spread=()):
    """The pad module: ``front - 1`` names that sort first (its file name is one more), and
    the ``spread`` names."""
    if front < 1:
        raise ValueError("a pad module shifts by 1 or more (its file name's qstr)")
    names = ["AAAA%03d" % i for i in range(front - 1)] + list(spread)
    lines = ["# unused names: tools/rp2040_layouts.py's qstr layout"]
    return "\n".join(lines + ["%s = 0" % n for n in names]) + "\n"


def pad_dir(build_dir):
    """Where the pad module and the manifest go: beside the build (CMake keeps the manifest's
    path from the build's first configuration, so it stays the same for every layout)."""
    return build_dir.rstrip("/") + "-pad"


def manifest_source(padded, pad, board_manifest=BOARD_MANIFEST):
    """The board's manifest, and the pad module when ``padded``."""
    text = "include(%r)\n" % board_manifest
    if padded:
        text += "module(%r, base_path=%r)\n" % (PAD_MODULE + ".py", pad)
    return text


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def build(micropy_dir, layout, build_dir=BUILD, board_dir=None, out=print):
    """Build the firmware at ``layout`` (its text: ``N`` or ``sN``); returns its UF2, copied
    aside (the next build's make rewrites the build's own). Raises Unavailable when the build
    cannot run. ``board_dir``: the rp2 port's BOARD_DIR (default: boards/rp2040/pico)."""
    kind, n = parse_layout(layout)
    pad = pad_dir(build_dir)
    os.makedirs(pad, exist_ok=True)
    module = os.path.join(pad, PAD_MODULE + ".py")
    if kind == "spread":
        ours = re.findall(r"^(\w+) = 0$", _read(module), re.M)
        pool = pool_names(_read(os.path.join(build_dir, "frozen_content.c")))
        if not pool:
            raise Unavailable("layout %s reads the pool of a build made first: give a front "
                              "layout (such as 0) before it" % layout)
        source = pad_source(1, spread_names(pool, n, ours))
    else:
        source = pad_source(n) if n else ""
    with open(module, "w") as f:
        f.write(source)
    manifest = os.path.join(pad, "manifest.py")
    with open(manifest, "w") as f:
        f.write(manifest_source(bool(source), pad))
    env = dict(os.environ)
    if env.get("PICOTOOL_DIR"):
        env["CMAKE_ARGS"] = (env.get("CMAKE_ARGS", "") + " -Dpicotool_DIR="
                             + env["PICOTOOL_DIR"]).strip()
    cmd = ["make", "-C", os.path.join(micropy_dir, "ports", "rp2"), "-j2",
           "FROZEN_MANIFEST=" + manifest, "BUILD=" + build_dir] + (
               ["BOARD_DIR=" + board_dir] if board_dir else rp2040_build.board_args())
    out("building layout %s ..." % layout)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise Unavailable("the layout-%s build failed: %s" % (
            layout, (proc.stdout + proc.stderr).strip()[-1500:]))
    image = os.path.join(build_dir, "layout-%s.uf2" % layout)
    shutil.copyfile(os.path.join(build_dir, "firmware.uf2"), image)
    return image


def bench(image, workloads):
    """``fwbench``'s rows of ``workloads`` on ``image`` in rp2040js."""
    emu = emulate.Rp2040Emulator(image).start()
    try:
        rows = []
        for name in workloads:
            rows += fwbench.run_workload(emu.path, name)
        return rows
    finally:
        emu.stop()


def summary(runs):
    """Per row (workload, figure): its values by layout, and the mean, least and most of
    shimeji's, the reference's and their ratio. ``runs``: {layout: rows}, in order."""
    table = {}
    for layout, rows in runs.items():
        for row in rows:
            key = (row.get("workload"), row.get("metric"))
            table.setdefault(key, {"ref_name": row.get("ref_name"), "by_layout": {}})
            table[key]["by_layout"][layout] = (row.get("shimeji"), row.get("ref"),
                                               fwbench.ratio(row))
    out = []
    for (workload, metric), entry in table.items():
        cols = {}
        for i, name in enumerate(("shimeji", "ref", "ratio")):
            vals = [v[i] for v in entry["by_layout"].values() if isinstance(v[i], (int, float))]
            cols[name] = (sum(vals) / len(vals), min(vals), max(vals)) if vals else None
        out.append({"workload": workload, "metric": metric, "ref_name": entry["ref_name"],
                    "by_layout": entry["by_layout"], **cols})
    return out


def _span(col, fmt):
    if col is None:
        return "-"
    mean, least, most = col
    return (fmt + " (" + fmt + "-" + fmt + ")") % (mean, least, most)


def print_summary(rows, layouts, out=print):
    out("the rp2040 bench over qstr layouts (%s): mean (least-most)" % ", ".join(layouts))
    for r in rows:
        spread = ""
        if r["shimeji"] and r["shimeji"][1]:
            spread = "  spread %.1f %%" % (100.0 * (r["shimeji"][2] / r["shimeji"][1] - 1))
        out("%-14s %-58s" % ((r["workload"] or "")[:14], (r["metric"] or "")[:58]))
        out("    shimeji %s  %s %s  ratio %s%s" % (
            _span(r["shimeji"], "%.0f"), r["ref_name"] or "ref", _span(r["ref"], "%.0f"),
            _span(r["ratio"], "%.2f"), spread))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--only", default="spawn", help="fwbench workloads, comma-separated")
    ap.add_argument("--layouts", default=",".join(LAYOUTS),
                    help="N (front shift, 0-63) or sN (N names spread), comma-separated")
    ap.add_argument("--build-dir", default=BUILD,
                    help="the builds' directory (default %(default)s)")
    ap.add_argument("--board-dir", help="the rp2 port's BOARD_DIR (default: boards/rp2040/pico; "
                    "a build directory keeps the board it was first built for)")
    ap.add_argument("--json", help="write every layout's rows and the summary here")
    args = ap.parse_args(argv)
    layouts = args.layouts.split(",")
    try:
        [parse_layout(t) for t in layouts]
    except ValueError as e:
        ap.error(str(e))
    if not args.micropy_dir or not os.path.isdir(os.path.join(args.micropy_dir, "ports", "rp2")):
        print("skipped: give --micropy-dir (MICROPY_DIR), a MicroPython tree with the rp2 port")
        return 0
    runs = {}
    try:
        for t in layouts:
            image = build(args.micropy_dir, t, os.path.abspath(args.build_dir),
                          args.board_dir and os.path.abspath(args.board_dir))
            runs[t] = bench(image, args.only.split(","))
    except Unavailable as e:
        print("skipped: %s" % e)
        return 0
    rows = summary(runs)
    print_summary(rows, layouts)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"layouts": layouts, "runs": runs, "summary": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
