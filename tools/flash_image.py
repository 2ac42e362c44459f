"""A littlefs image of what ``make deploy`` puts on an RP2040, for the emulator's flash.

Usage: python tools/flash_image.py [--arch armv6m] [--out build/flash/rp2040-lib.img]

``make deploy`` compiles shimeji and the board module with mpy-cross for the board's
architecture and copies them to ``/lib`` with ``mpremote fs cp``. rp2040js does not emulate
flash programming, so on the emulated RP2040 that copy cannot happen; this writes the same
files (``/lib/shimeji/**.mpy``, ``/lib/shimeji_board.mpy``) into a littlefs2 image laid out
as the firmware of ``make firmware BOARD=rp2040`` formats its flash (MicroPython v1.28.0's
``ports/rp2/modules/_boot.py``: ``VfsLfs2(rp2.Flash(), progsize=256)``, 4 KB blocks, the last
``MICROPY_HW_FLASH_STORAGE_BYTES`` of the 2 MB flash: 1280 KB on our board,
boards/rp2040/pico, where MicroPython's RPI_PICO has 1408 KB).
The emulator scripts load it at ``FS_OFFSET`` when ``RP2040_FLASH_IMAGE=FILE@OFFSET`` is set
in their environment, so the firmware's boot mounts it as ``/``: the ``.mpy`` deploy path,
read from flash as on a board (``tools/fwtest.py --mpy``). Needs ``littlefs-python``.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import device  # noqa: E402

ROOT = device.ROOT
BOARD_DIR = os.path.join(ROOT, "boards", "rp2040", "pico")  # make firmware BOARD=rp2040's board
FLASH_BYTES = 2 * 1024 * 1024  # the Pico's: PICO_FLASH_SIZE_BYTES
STORAGE = re.compile(r"#define MICROPY_HW_FLASH_STORAGE_BYTES\s+\((\d+) \* 1024\)")


def storage_bytes(header):
    """``MICROPY_HW_FLASH_STORAGE_BYTES`` of a board's ``mpconfigboard.h`` when it is a plain
    ``(N * 1024)``; else None."""
    with open(header) as f:
        m = STORAGE.search(f.read())
    return int(m.group(1)) * 1024 if m else None


FS_BYTES = storage_bytes(os.path.join(BOARD_DIR, "mpconfigboard.h"))  # 1280 KB
FS_OFFSET = FLASH_BYTES - FS_BYTES  # 0xc0000, from the start of flash (XIP 0x10000000)
BLOCK = 4096
PROG = 256  # _boot.py's progsize
READ = 32  # VfsLfs2's default readsize


def lib_files(arch, board="rp2040", out_dir=None):
    """Compile shimeji and the board module as ``make deploy`` does; returns
    ``[(path on the board, local file)]`` under ``/lib``."""
    out_dir = out_dir or os.path.join(ROOT, "build", "deploy", arch)
    built = device.build({"arch": arch}, out_dir, board)
    files = [("/lib/shimeji_board.mpy", os.path.join(built, "shimeji_board.mpy"))]
    pkg = os.path.join(built, "shimeji")
    for dirpath, _dirs, names in os.walk(pkg):
        rel = os.path.relpath(dirpath, pkg).replace(os.sep, "/")
        for n in sorted(names):
            if n.endswith(".mpy"):
                where = "/lib/shimeji/" + (n if rel == "." else rel + "/" + n)
                files.append((where, os.path.join(dirpath, n)))
    return sorted(files)


def write_image(files, out):
    """A littlefs2 image of ``files`` (``[(path, local file)]``) for the RP2040's storage;
    returns the image's size in bytes (the whole storage area)."""
    try:
        import littlefs
    except ImportError:
        raise SystemExit("littlefs-python missing: run `make venv` (requirements.txt)") from None
    fs = littlefs.LittleFS(block_size=BLOCK, block_count=FS_BYTES // BLOCK, prog_size=PROG,
                           read_size=READ, lookahead_size=32)
    made = set()
    for where, local in files:
        parts = where.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in made:
                fs.mkdir(d)
                made.add(d)
        with open(local, "rb") as src, fs.open(where, "wb") as dst:
            dst.write(src.read())
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "wb") as f:
        f.write(fs.context.buffer)
    return len(fs.context.buffer)


def uf2_flash_end(uf2):
    """The flash offset just past the last byte a UF2 image writes (its blocks' target
    addresses, from the XIP base 0x10000000)."""
    import struct

    end = 0
    with open(uf2, "rb") as f:
        while True:
            block = f.read(512)
            if len(block) < 512:
                return end
            addr, size = struct.unpack_from("<II", block, 12)
            end = max(end, addr - 0x10000000 + size)


def overlap(uf2, fs_offset=FS_OFFSET):
    """Bytes of the firmware past ``fs_offset``, where the board's filesystem begins (our
    board's by default). Above 0, the firmware's tail lies in the filesystem: a Pico's first
    boot formats it (``_boot.py``, no littlefs there), erasing that tail, and loading the image
    here overwrites it."""
    return uf2_flash_end(uf2) - fs_offset


def env_value(image):
    """The ``RP2040_FLASH_IMAGE`` value the emulator scripts read."""
    return "%s@%d" % (os.path.abspath(image), FS_OFFSET)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="armv6m")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "flash", "rp2040-lib.img"))
    args = ap.parse_args(argv)
    files = lib_files(args.arch)
    size = write_image(files, args.out)
    print("%s: %d files under /lib, %d bytes of .mpy, a %d-byte littlefs image" % (
        args.out, len(files), sum(os.path.getsize(f) for _, f in files), size))
    print("RP2040_FLASH_IMAGE=%s" % env_value(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
