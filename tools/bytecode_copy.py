"""Write a bytecode-only copy of the shimeji package, for freezing into ARMv6-M firmware.

Usage: python tools/bytecode_copy.py [--src firmware/shimeji] [--out build/bytecode/shimeji]

Why: MicroPython's ``tools/mpy-tool.py`` (v1.28 and before) aligns frozen native code to 2
bytes on ARMv6-M, and the VM reads a word from the start of it (``py/objfun.h``); the
Cortex-M0+ of the RP2040 faults on that unaligned load, at the first call into any frozen
``@micropython.native`` function. Native code loaded from a ``.mpy`` file or compiled on the
board lives in the heap (aligned) and is fine; only freezing is affected.

So the RP2040 manifest (``include("../../manifest.py", bytecode=True)``) freezes this copy:
every ``@micropython.native`` and ``@micropython.viper`` line becomes a blank line (line
numbers in tracebacks stay right), and a module that used viper's ``ptr32``/``ptr16``/``ptr8``
casts gets plain-Python ones at its end (indexing the array itself: shimeji's viper code keeps
its values below 2**30, so the result is the same). Everything else is byte-for-byte the same.
"""

import argparse
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DECORATOR = re.compile(r"^[ \t]*@micropython\.(native|viper)[ \t]*(#.*)?$")
VIPER_CASTS = ("ptr32", "ptr16", "ptr8")
CASTS_FOOTER = (
    "\n\n# Added by tools/bytecode_copy.py (bytecode-only build): viper's casts as plain "
    "indexing.\n"
)


def strip_source(source):
    """``source`` without native/viper decorators; returns ``(text, decorators removed)``."""
    lines = source.split("\n")
    removed = 0
    viper = False
    for i, line in enumerate(lines):
        m = DECORATOR.match(line)
        if m:
            removed += 1
            viper = viper or m.group(1) == "viper"
            lines[i] = ""
    text = "\n".join(lines)
    if viper:
        used = [c for c in VIPER_CASTS if re.search(r"\b%s\(" % c, text)]
        if used:
            text = text.rstrip("\n") + CASTS_FOOTER + "".join(
                "\n\ndef %s(buf):\n    return buf\n" % c for c in used)
    return text, removed


def write_copy(src, out):
    """Copy the package ``src`` to ``out`` with every module stripped; returns the number of
    decorators removed. Rewrites ``out`` from scratch (no stale modules)."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    removed = 0
    for dirpath, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        target = os.path.join(out, os.path.relpath(dirpath, src))
        os.makedirs(target, exist_ok=True)
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            with open(os.path.join(dirpath, name)) as f:
                text, n = strip_source(f.read())
            removed += n
            with open(os.path.join(target, name), "w") as f:
                f.write(text)
    return removed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(ROOT, "firmware", "shimeji"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bytecode", "shimeji"))
    args = ap.parse_args(argv)
    n = write_copy(args.src, args.out)
    print("bytecode-only copy in %s (%d native/viper decorators removed)" % (args.out, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
