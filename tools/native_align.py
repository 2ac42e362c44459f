"""Freeze native code word-aligned on ARMv6-M: MicroPython's mpy-tool.py, patched, in build/.

Usage (from a manifest, as ``manifest.py`` does with ``word_align_native=True``):
    native_align.install(os.path.join(here, "build", "mpy-tool"))
or by hand:  python tools/native_align.py MPY_DIR/tools/mpy-tool.py OUT_DIR

Why: MicroPython's ``tools/mpy-tool.py`` (v1.28 and before) gives frozen native code on
ARMv6-M ``__attribute__ ((aligned (2)))``, and the VM reads a 32-bit word at the start of it
(``py/objfun.h``); the RP2040's Cortex-M0+ faults on that load at the first call into any
frozen ``@micropython.native`` function. ``boards/rp2040/mpy-tool-armv6m-align.patch`` (our
text, one hunk) puts ARMv6-M with the architectures aligned to 4 bytes.

How: the manifest runs inside MicroPython's ``tools/makemanifest.py``, before it calls
mpy-tool. ``install`` wraps that process's ``system()`` so the call to ``.../mpy-tool.py``
runs a patched copy, written to OUT_DIR/tools (with the ``py/makeqstrdata.py`` it imports);
the MicroPython tree itself is never written. The copy is made from the tree the build uses,
so it follows that tree's version; a tree whose mpy-tool already aligns ARMv6-M to 4 runs
unchanged, and one the patch does not fit stops the build with what to do.
"""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCH = os.path.join(ROOT, "boards", "rp2040", "mpy-tool-armv6m-align.patch")
# The patch for each architecture word_align_native= names (True: ARMv6-M, the RP2040).
PATCHES = {
    "armv6m": PATCH,
    # the ESP32-C3: RV32IMC aligned to 4 and each native array a whole number of words (in
    # .text, an odd-length array left the next one at an odd address after linker relaxation)
    "rv32imc": os.path.join(ROOT, "boards", "esp32", "mpy-tool-rv32imc-align.patch"),
}
MPY_TOOL = "/tools/mpy-tool.py"


class PatchError(Exception):
    pass


def read_hunks(patch_text):
    """The hunks of a unified diff as ``(old, new)`` text pairs (context lines in both)."""
    hunks = []
    for block in patch_text.split("\n@@")[1:]:
        old, new = [], []
        for line in block.rstrip("\n").split("\n")[1:]:
            if line.startswith(("-", " ", "")) and not line.startswith("+"):
                old.append(line[1:])
            if line.startswith(("+", " ", "")) and not line.startswith("-"):
                new.append(line[1:])
        hunks.append(("\n".join(old), "\n".join(new)))
    return hunks


def apply_hunks(source, hunks, name="mpy-tool.py"):
    """``source`` with every hunk applied; a hunk already applied is left as it is."""
    for old, new in hunks:
        if source.count(new) == 1 and source.count(old) == 0:
            continue
        if source.count(old) != 1:
            raise PatchError(
                "%s does not match %s (its ARMv6-M alignment code differs from MicroPython "
                "v1.28.0's): freeze shimeji as bytecode instead, include(\"../../manifest.py\", "
                "bytecode=True) in boards/rp2040/manifest.py" % (name, os.path.basename(PATCH)))
        source = source.replace(old, new)
    return source


def patched_copy(mpy_tool, out_dir, patch=PATCH):
    """Write the patched copy of ``mpy_tool`` to ``out_dir/tools``; returns its path."""
    with open(patch) as f:
        hunks = read_hunks(f.read())
    with open(mpy_tool) as f:
        text = apply_hunks(f.read(), hunks, mpy_tool)
    tools = os.path.join(out_dir, "tools")
    py = os.path.join(out_dir, "py")
    for d in (tools, py):
        os.makedirs(d, exist_ok=True)
    # mpy-tool imports makeqstrdata from its own ../py
    qstr = os.path.join(os.path.dirname(os.path.dirname(mpy_tool)), "py", "makeqstrdata.py")
    shutil.copyfile(qstr, os.path.join(py, "makeqstrdata.py"))
    out = os.path.join(tools, "mpy-tool.py")
    with open(out, "w") as f:
        f.write(text)
    return out


def patch_for(arch):
    """The patch for ``word_align_native=arch`` (True or "armv6m": the RP2040's)."""
    if arch is True:
        return PATCH
    if arch not in PATCHES:
        raise SystemExit("shimeji: word_align_native=%r: one of True, %s" % (
            arch, ", ".join(repr(a) for a in sorted(PATCHES))))
    return PATCHES[arch]


def install(out_dir, main=None, patch=PATCH):
    """Run the mpy-tool patched by ``patch`` for this freeze. Returns False (and does
    nothing) when not running inside MicroPython's makemanifest.py (a test evaluating the
    manifest)."""
    main = main or sys.modules.get("__main__")
    if os.path.basename(getattr(main, "__file__", "") or "") != "makemanifest.py":
        return False
    system = getattr(main, "system", None)
    if not callable(system):
        raise SystemExit(
            "shimeji: this makemanifest.py has no system() to hook, so frozen native code "
            "would stay 2-byte aligned on ARMv6-M; freeze shimeji as bytecode instead "
            "(include(\"../../manifest.py\", bytecode=True))")

    def patched_system(cmd):
        if len(cmd) > 1 and str(cmd[1]).endswith(MPY_TOOL):
            cmd = list(cmd)
            cmd[1] = patched_copy(cmd[1], out_dir, patch)
        return system(cmd)

    main.system = patched_system
    return True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    try:
        print(patched_copy(argv[0], argv[1]))
    except PatchError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
