"""The stm32 parts of ``make firmware``: the qemu board (B_L475E_IOT01A changed to boot in
qemu's b-l475e-iot01a machine, with 32-bit USART registers), the test image's and the PPP build's
flags, and a build directory emptied when its CFLAGS_EXTRA change (tools/firmware.py builds;
docs/boards.md, STM32)."""

import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# stm32 --network ppp: lwIP and its PPP, as the port's Ethernet boards turn lwIP on, with
# lwIP's smaller memory: MEM_SIZE given, lwipopts_common.h leaves out its Ethernet sizes (an
# 8,000 B lwIP heap, 800 B segments, 8-segment windows: "lwIP takes 26700 bytes") for lwIP's
# defaults (536 B segments, 4-segment windows) with a 5,000 B heap (its "19159 bytes" choice).
# A UART link carries ~12 KB/s at most; the ~7 KB go to MicroPython's heap, which the two
# examples need (docs/boards.md, "A network on the emulated STM32", session 26).
NETWORKS = ("ppp",)
PPP_MAKE_ARGS = ("MICROPY_PY_LWIP=1",)
PPP_CFLAGS = "-DMICROPY_PY_NETWORK_PPP_LWIP=1 -DMEM_SIZE=5000"


# stm32 --emulated --tests: the host tests and their runner frozen in too (test-firmware),
# with the unix port's memory statistics (micropython.mem_total: the transient-frame tests).
TESTS_MANIFEST = os.path.join(ROOT, "boards", "stm32", "qemu", "manifest_tests.py")
TESTS_CFLAGS = "-DMICROPY_MALLOC_USES_ALLOCATED_SIZE=1 -DMICROPY_MEM_STATS=1"
# Every stm32 build: MicroPython's map look-up cache at 1024 entries instead of 128 (+896 B of
# RAM). The cache is indexed by a qstr's number alone, and with 128 entries (64 usable by
# qstrs) a spawn's attribute names evict each other; asyncio's figures hardly move with it
# (docs/boards.md, "Spawn on 32-bit, session 8").
STM32_CFLAGS = "-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024"


# stm32 --emulated: MicroPython's board for qemu's b-l475e-iot01a machine, and our changes
STM32_QEMU_BOARD = "B_L475E_IOT01A"
STM32_QEMU_CHANGES = os.path.join(ROOT, "boards", "stm32", "qemu")
USART_16BIT = re.compile(r"__IO uint16_t (GTPR|RQR|RDR|TDR);")
USART_PAD = re.compile(r"\n *uint16_t +RESERVED[2-5]; [^\n]*")


def stm32_qemu_board_dir():
    return os.path.join(ROOT, "build", "firmware", "stm32-qemu-board")


def write_stm32_qemu_board(micropy_dir, tests=False, network=None):
    """Write the emulated board (a copy of B_L475E_IOT01A with boards/stm32/qemu appended) and
    the 32-bit USART header into the build directory (the test image's with ``tests``); the
    MicroPython tree is only read."""
    import firmware

    src = os.path.join(micropy_dir, "ports", "stm32", "boards", STM32_QEMU_BOARD)
    out = stm32_qemu_board_dir()
    files = {}
    for name in os.listdir(src):
        with open(os.path.join(src, name)) as f:
            files[name] = f.read()
    for name, add in (("mpconfigboard.h", "mpconfigboard_qemu.h"),
                      ("mpconfigboard.mk", "mpconfigboard_qemu.mk"),
                      ("qemu_fixups.c", "qemu_fixups.c"),
                      ("ppp_fixups.c", "ppp_fixups.c"),
                      ("stm32l475_qemu.ld", "stm32l475_qemu.ld")):
        with open(os.path.join(STM32_QEMU_CHANGES, add)) as f:
            files[name] = files.get(name, "") + f.read()
    os.makedirs(out, exist_ok=True)
    for name, text in files.items():
        _write_if_changed(os.path.join(out, name), text)  # unchanged files keep their time
    # qemu's STM32L4x5 USART takes only 32-bit accesses; the CMSIS header declares GTPR, RQR,
    # RDR and TDR 16-bit (a 16-bit store to TDR is a bus fault there). The build directory
    # comes before the CMSIS directory on the include path, so copies there win.
    cmsis = os.path.join(micropy_dir, "lib", "stm32lib", "CMSIS", "STM32L4xx", "Include")
    build = firmware.build_dir("stm32", emulated=True, tests=tests, network=network)
    os.makedirs(build, exist_ok=True)
    with open(os.path.join(cmsis, "stm32l4xx.h")) as f:
        _write_if_changed(os.path.join(build, "stm32l4xx.h"), f.read())
    with open(os.path.join(cmsis, "stm32l475xx.h")) as f:
        text = f.read()
    head, sep, rest = text.partition("} USART_TypeDef;")
    start = head.rindex("typedef struct")
    usart, n = USART_16BIT.subn(r"__IO uint32_t \1;", head[start:])
    usart, pads = USART_PAD.subn("", usart)
    if not sep or n != 4 or pads != 4:
        raise firmware.FirmwareError("%s/stm32l475xx.h: its USART_TypeDef is not the one "
                                     "expected (4 16-bit registers and their padding)" % cmsis)
    _write_if_changed(os.path.join(build, "stm32l475xx.h"), head[:start] + usart + sep + rest)


def _write_if_changed(path, text):
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path, "w") as f:
        f.write(text)


CFLAGS_STAMP = "shimeji-cflags.txt"


def clean_on_new_cflags(build, cmd, out=print):
    """Empty ``build`` when it was built with other ``CFLAGS_EXTRA`` than ``cmd`` has (or
    before they were recorded): make does not rebuild objects for a changed flag, and objects
    compiled with another ``MICROPY_OPT_MAP_LOOKUP_CACHE_SIZE`` disagree on the layout of
    MicroPython's state. Then records the flags. A network build's whole variant goes (its
    ``fw/``'s parent): lwIP's objects may sit beside ``fw/``, and another ``MEM_SIZE`` changes
    lwIP's pools."""
    if PPP_MAKE_ARGS[0] in cmd:
        build = os.path.dirname(build)
    flags = "".join(a for a in cmd if a.startswith("CFLAGS_EXTRA="))
    stamp = os.path.join(build, CFLAGS_STAMP)
    if os.path.isdir(build) and os.listdir(build):
        old = None
        if os.path.exists(stamp):
            with open(stamp) as f:
                old = f.read()
        if old != flags:
            out("%s was built with other CFLAGS_EXTRA (%s): building it again from scratch"
                % (build, "not recorded" if old is None else old or "none"))
            shutil.rmtree(build)
    os.makedirs(build, exist_ok=True)
    with open(stamp, "w") as f:
        f.write(flags)
