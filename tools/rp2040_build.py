"""The rp2040 parts of ``make firmware``: our board, its flash layout, the checks after a build.

``make firmware BOARD=rp2040`` builds ``boards/rp2040/pico`` through the rp2 port's
``BOARD_DIR``: MicroPython's RPI_PICO with a 1280 KB filesystem instead of 1408 KB, so that
the firmware with shimeji frozen fits the code space before it (docs/boards.md, "RP2040,
session 19"). Its link fails when the firmware reaches into the filesystem
(``mpconfigboard.cmake``); after any rp2040 build, ``check_flash_room`` reads the UF2 and
refuses an image that does (a MicroPython board given by ``--mp-board`` too, when its layout
can be read), and ``check_native_alignment`` refuses native code off a word.
"""

import os
import re
import shutil
import subprocess

import flash_image

BOARD_DIR = flash_image.BOARD_DIR
FLASH_SIZE = re.compile(r"PICO_FLASH_SIZE_BYTES,?\s+\((\d+) \* 1024 \* 1024\)")
PICO_BOARD = re.compile(r'set\(PICO_BOARD "?([\w-]+)"?\)')


def board_args(mp_board=None):
    """The rp2 port's board arguments: our board, or MicroPython's ``mp_board``."""
    return ["BOARD=" + mp_board] if mp_board else ["BOARD_DIR=" + BOARD_DIR]


def board_dir(micropy_dir, mp_board=None):
    return (os.path.join(micropy_dir, "ports", "rp2", "boards", mp_board) if mp_board
            else BOARD_DIR)


def fs_offset(micropy_dir, mp_board=None):
    """Where the board's filesystem begins, from the start of flash: flash size (pico-sdk's
    board header) less ``MICROPY_HW_FLASH_STORAGE_BYTES`` (the board's ``mpconfigboard.h``, else
    the port's 1408 KB). None when either is not a plain ``(N * 1024 [* 1024])``."""
    if not mp_board:
        return flash_image.FS_OFFSET
    where = board_dir(micropy_dir, mp_board)
    try:
        header = os.path.join(where, "mpconfigboard.h")
        with open(header) as f:
            text = f.read()
        fs = (flash_image.storage_bytes(header) if "MICROPY_HW_FLASH_STORAGE_BYTES" in text
              else 1408 * 1024)
        with open(os.path.join(where, "mpconfigboard.cmake")) as f:
            m = PICO_BOARD.search(f.read())
        sdk = os.environ.get("PICO_SDK_PATH") or os.path.join(micropy_dir, "lib", "pico-sdk")
        pico = m.group(1) if m else mp_board.lower()
        for d in (where, os.path.join(sdk, "src", "boards", "include", "boards")):
            if os.path.exists(os.path.join(d, pico + ".h")):
                with open(os.path.join(d, pico + ".h")) as f:
                    size = FLASH_SIZE.search(f.read())
                break
        else:
            size = None
    except OSError:
        return None
    if fs is None or size is None:
        return None
    return int(size.group(1)) * 1024 * 1024 - fs


def configured_board(build):
    """The board directory CMake configured ``build`` for (its cache), or None."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^MICROPY_BOARD_DIR:\w+=(.*)$", f.read(), re.M)
    except OSError:
        return None
    return os.path.abspath(m.group(1).strip()) if m else None


def reconfigure_on_new_board(build, micropy_dir, mp_board=None, out=print):
    """Empty ``build`` when CMake configured it for another board: the port's Makefile runs
    CMake only when the build has no Makefile, so a board change never reached it (a tree
    configured for RPI_PICO kept building RPI_PICO). Returns True if it was emptied."""
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        return False
    want = os.path.abspath(board_dir(micropy_dir, mp_board))
    had = configured_board(build)
    if had == want:
        return False
    out("%s was configured for %s: building it again for %s" % (
        build, had or "another board", want))
    shutil.rmtree(build)
    return True


def remove_images(build):
    """Delete the images of an earlier build, so that a build whose link fails (the firmware
    past the filesystem) leaves no image for the emulator or a Pico to take."""
    for name in ("firmware.elf", "firmware.uf2", "firmware.bin", "firmware.hex"):
        if os.path.exists(os.path.join(build, name)):
            os.remove(os.path.join(build, name))


def check_flash_room(build, offset, out=print):
    """Refuse an rp2040 image that reaches into the board's filesystem (``offset`` from the
    start of flash; None: not known, said so): a Pico's first boot formats the filesystem and
    erases the firmware's tail. Else say how much room is left."""
    import firmware

    uf2 = os.path.join(build, "firmware.uf2")
    if not os.path.exists(uf2):
        return
    if offset is None:
        out("not checked: where this board's filesystem begins (its mpconfigboard.h or "
            "pico-sdk header does not say it plainly)")
        return
    over = flash_image.overlap(uf2, offset)
    if over > 0:
        raise firmware.FirmwareError(
            "%s ends %d B past 0x%x, inside the board's filesystem: a Pico's first boot would "
            "format it and erase the firmware's tail. Freeze less, or make the board's "
            "MICROPY_HW_FLASH_STORAGE_BYTES smaller (boards/rp2040/pico/mpconfigboard.h; "
            "docs/boards.md, \"RP2040, session 19\")" % (uf2, over, offset))
    out("flash: the firmware ends at 0x%x, %d B (%.1f KB) before the filesystem at 0x%x"
        % (offset + over, -over, -over / 1024.0, offset))


# A frozen native or viper function's machine code: mpy-tool puts it in .text (bytecode is
# plain const data)
NATIVE_FUN_DATA = re.compile(r'byte (fun_data_\w+)\[\d+\] __attribute__\(\(section\("\.text')


def native_code_addresses(content, elf, nm="arm-none-eabi-nm"):
    """``[(symbol, address)]`` of every frozen native/viper function's code in ``elf``, the
    names read from the build's ``frozen_content.c``. Raises ``FirmwareError`` if one of them
    is not in the ELF's symbols."""
    import firmware

    with open(content) as f:
        names = NATIVE_FUN_DATA.findall(f.read())
    proc = subprocess.run([nm, elf], capture_output=True, text=True, check=True)
    where = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            where[parts[2]] = int(parts[0], 16)
    missing = [n for n in names if n not in where]
    if missing:
        raise firmware.FirmwareError("%s: no symbol for the native code %s in %s"
                                     % (content, ", ".join(missing[:5]), elf))
    return [(n, where[n]) for n in names]


def check_native_alignment(board, out=print):
    """Refuse an rp2040 image whose frozen native code is 2-byte aligned (it faults on the
    Cortex-M0+): the patched mpy-tool (tools/native_align.py) was not used for it. Then
    read the linked ELF: every native and viper function's code must start on a word
    boundary there too (the address the VM reads a word at)."""
    import firmware

    build = firmware.build_dir(board)
    content = os.path.join(build, "frozen_content.c")
    if board != "rp2040" or not os.path.exists(content):
        return
    with open(content) as f:
        if "aligned (2)" in f.read():
            raise firmware.FirmwareError(
                "%s has frozen native code aligned to 2 bytes, which faults on the RP2040's "
                "Cortex-M0+: the freeze did not run the patched mpy-tool.py "
                "(tools/native_align.py). Delete %s and build again, or freeze bytecode "
                "(bytecode=True in boards/rp2040/manifest.py)." % (content, build))
    elf = os.path.join(build, "firmware.elf")
    if not os.path.exists(elf) or not shutil.which("arm-none-eabi-nm"):
        out("not checked: the native code's addresses (no %s or no arm-none-eabi-nm)" % elf)
        return
    found = native_code_addresses(content, elf)
    odd = ["%s at 0x%x" % (n, a) for n, a in found if a % 4]
    if odd:
        raise firmware.FirmwareError("%s: frozen native code not word-aligned, which faults "
                                     "on the RP2040's Cortex-M0+: %s" % (elf, "; ".join(odd[:5])))
    out("frozen native and viper functions: %d, every one word-aligned in %s"
        % (len(found), elf))
