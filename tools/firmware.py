"""Build MicroPython firmware with shimeji frozen in, from a MicroPython source tree you have.

Usage: python tools/firmware.py BOARD --micropy-dir DIR [--mp-board NAME] [--jobs N]
       python tools/firmware.py qemu --micropy-dir DIR --boot   (build, then boot it on a pty)

BOARD is a directory of boards/ (rp2040, esp32, stm32, unix, qemu). The port's own ``make`` is
run with ``FROZEN_MANIFEST=boards/BOARD/manifest.py`` and ``BUILD=build/firmware/BOARD``, so
nothing is written into your MicroPython tree except its mpy-cross. Each port needs its own
toolchain (see docs/boards.md): arm-none-eabi-gcc for rp2040 (plus cmake), stm32 and qemu;
ESP-IDF for esp32. Prints the path of the image it built.

esp32 ``--chip c3`` (``make firmware BOARD=esp32 CHIP=c3``) builds boards/esp32/c3, an
ESP32-C3 board without the radio, and ``--chip esp32`` boards/esp32/esp32, the classic
(Xtensa) ESP32 without the radio; ESP-IDF v5.5 must be installed (Espressif's
``install.sh esp32c3`` or ``install.sh esp32``) and exported (``. export.sh``) in the shell;
the image goes to build/firmware/esp32-CHIP. Without ESP-IDF set up (no ``idf.py`` on
PATH) esp32 stops at once and says what to set up.

stm32 ``--emulated`` builds MicroPython's ``B_L475E_IOT01A`` board changed to boot in qemu's
``b-l475e-iot01a`` machine (qemu 9.0 or later): a copy of the board written to
build/firmware/stm32-qemu-board with ``boards/stm32/qemu/`` appended, and the USART registers
of the MCU's CMSIS header made 32-bit (qemu's USART model takes only word accesses), in
build/firmware/stm32-qemu. Without it, stm32 is a firmware for a real board (PYBV11).
``--emulated --tests`` is the same board with the host tests and their runner frozen in too
(boards/stm32/qemu/manifest_tests.py) and MicroPython's memory statistics on (as on the unix
port: ``micropython.mem_total``), in build/firmware/stm32-qemu-tests: the image
``make test-firmware BOARD=stm32`` boots.

stm32 ``--network ppp`` (``make firmware BOARD=stm32 NETWORK=ppp``) adds MicroPython's lwIP
with PPP (``MICROPY_PY_LWIP=1``, ``MICROPY_PY_NETWORK_PPP_LWIP=1``): ``network.PPP(uart)`` and
``socket``, in build/firmware/stm32[-qemu]-ppp. lwIP comes from the tree's lib/lwip, else from
an lwIP checkout named by ``LWIP_TREE`` (or ``lwip`` next to the tree): its sources are read
where they are (``LWIP_DIR`` relative to the tree), never copied into it. It freezes
boards/stm32/manifest_ppp.py: the board's usual modules, ``ppp_link`` and the two network
examples. With ``--emulated`` it is the qemu board that tools/netboard.py boots with USART2
as its PPP link.

rp2040 builds our board boards/rp2040/pico (MicroPython's RPI_PICO with a 1280 KB filesystem,
so that the firmware fits before it: tools/rp2040_build.py); ``--mp-board NAME`` one of the
port's own. The build fails when the firmware reaches into the board's filesystem.
rp2040 (a CMake build) also reads, from the environment:
- ``PICO_SDK_PATH``: a pico-sdk other than the tree's lib/pico-sdk (v1.28.0 pins 2.2.0);
- ``PICOTOOL_DIR``: a picotool install (the directory holding picotoolConfig.cmake), or
  ``PICOTOOL_FETCH_FROM_GIT_PATH`` (+ ``PICOTOOL_GIT_REPOSITORY_URL`` for a local clone):
  without either, pico-sdk 2.x downloads picotool from GitHub during the build;
- ``CMAKE_ARGS``: more CMake arguments. They go to make through the environment: given on
  make's command line they would replace the port's board and manifest arguments.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import rp2040_build  # noqa: E402
from rp2040_build import check_native_alignment, native_code_addresses  # noqa: E402, F401

# board -> (port directory, MicroPython board, image files to look for, toolchain hint)
PORTS = {
    # rp2040: our board boards/rp2040/pico (RPI_PICO with a smaller filesystem: rp2040_build)
    "rp2040": ("rp2", "RPI_PICO", ("firmware.uf2",), "arm-none-eabi-gcc and cmake"),
    "esp32": ("esp32", "ESP32_GENERIC", ("firmware.bin",),
              "ESP-IDF (run its export.sh first)"),
    "stm32": ("stm32", "PYBV11", ("firmware.dfu", "firmware.hex"), "arm-none-eabi-gcc"),
    "unix": ("unix", None, ("micropython",), "a C compiler (gcc) and libffi-dev"),
    "qemu": ("qemu", "MPS2_AN385", ("firmware.elf",),
             "arm-none-eabi-gcc (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi) and "
             "qemu-system-arm to boot it"),
}


class FirmwareError(Exception):
    pass


# esp32 --chip: our board directories for chips that MicroPython's default esp32 board is not
ESP32_CHIPS = ("c3", "esp32")
ESP32_SETUP = (
    "the esp32 build needs Espressif's ESP-IDF v5.5.x set up in this shell (idf.py on PATH, "
    "IDF_PATH set). Install it once the official way (Espressif's Get Started guide: "
    "ESP-IDF v5.5.x in ~/esp-idf), then export it in each shell:\n"
    "    ~/esp-idf/install.sh esp32c3      # once; or esp32, esp32s3...: the chips you build for\n"
    "    . ~/esp-idf/export.sh\n"
    "(docs/boards.md, ESP32, says more)")


def esp32_board_dir(chip):
    return os.path.join(ROOT, "boards", "esp32", chip)


def check_esp_idf(env, which=None):
    """Raise FirmwareError saying how to set ESP-IDF up when it is not in ``env``."""
    import shutil

    which = which or shutil.which
    missing = [name for name, ok in (("IDF_PATH", env.get("IDF_PATH")),
                                     ("idf.py", which("idf.py", path=env.get("PATH"))))
               if not ok]
    if missing:
        raise FirmwareError("%s not found: %s" % (" and ".join(missing), ESP32_SETUP))


NO_TREE = (
    "make firmware needs a MicroPython source tree. Get one once, then point MICROPY_DIR at it:\n"
    "    git clone https://github.com/micropython/micropython ~/micropython\n"
    "    make -C ~/micropython/ports/%s submodules   # for ports that need them\n"
    "    make firmware BOARD=%s MICROPY_DIR=~/micropython\n"
    "No toolchain? `make run` runs the demo on the unix port, and `make deploy PORT=...` puts "
    "shimeji on a board that already runs MicroPython (docs/boards.md).")


def check_tree(micropy_dir, board):
    port_dir = PORTS[board][0]
    if not micropy_dir:
        raise FirmwareError(NO_TREE % (port_dir, board))
    micropy_dir = os.path.abspath(os.path.expanduser(micropy_dir))
    if not os.path.exists(os.path.join(micropy_dir, "py", "mpconfig.h")):
        raise FirmwareError("%s is not a MicroPython source tree (no py/mpconfig.h).\n\n%s" % (
            micropy_dir, NO_TREE % (port_dir, board)))
    if not os.path.isdir(os.path.join(micropy_dir, "ports", port_dir)):
        raise FirmwareError("%s has no ports/%s" % (micropy_dir, port_dir))
    if not os.path.exists(os.path.join(micropy_dir, "lib", "micropython-lib", "README.md")):
        check_submodules(micropy_dir, board, os.environ)  # names every one the board needs
        raise FirmwareError("freezing needs the micropython-lib submodule of %s, which is "
                            "empty.\n%s" % (micropy_dir, fetch_hint(micropy_dir, board,
                                                                    ["lib/micropython-lib"])))
    return micropy_dir


# Submodules each port's build reads (checked before building, so a missing one is named).
# The stm32 port's Makefile links tinyusb's device stack into every v1.28.0 board, USB on or
# off (without it, a link error naming tinyusb's .o files).
NEEDS = {
    "rp2040": ("lib/pico-sdk", "lib/tinyusb", "lib/mbedtls", "lib/micropython-lib"),
    "stm32": ("lib/stm32lib", "lib/tinyusb", "lib/micropython-lib"),
    "esp32": ("lib/micropython-lib",),
    "qemu": ("lib/micropython-lib",),
    "unix": ("lib/micropython-lib",),
}


# The submodules MicroPython v1.28.0 pins that these builds read (`git ls-tree v1.28.0 lib/`
# in a clone), for a tree that is not a git checkout (copied, or unpacked from an archive
# without its submodules): there `make submodules` cannot work and git cannot name the pins.
PINS_V1_28_0 = {
    "lib/micropython-lib": ("https://github.com/micropython/micropython-lib",
                            "8380c7bb8f9e5e5260e9539156742925e00366b2"),
    "lib/pico-sdk": ("https://github.com/raspberrypi/pico-sdk",  # tag 2.2.0
                     "a1438dff1d38bd9c65dbd693f0e5db4b9ae91779"),
    "lib/tinyusb": ("https://github.com/hathach/tinyusb",
                    "aa0fc2e08f1c2dd6f026a431e8989357fbb4c5bf"),
    "lib/mbedtls": ("https://github.com/Mbed-TLS/mbedtls",
                    "107ea89daaefb9867ea9121002fbbdf926780e98"),
    "lib/stm32lib": ("https://github.com/micropython/stm32lib",
                     "07619754261b571fb2f7c9f36ab94c203880d9fb"),
    "lib/lwip": ("https://github.com/lwip-tcpip/lwip",
                 "77dcd25a72509eb83f72b033d219b1d40cd8eb95"),
}


def tree_version(micropy_dir):
    """(major, minor, micro) from the tree's py/mpconfig.h, or None."""
    try:
        with open(os.path.join(micropy_dir, "py", "mpconfig.h")) as f:
            text = f.read()
    except OSError:
        return None
    parts = [re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % p, text)
             for p in ("MAJOR", "MINOR", "MICRO")]
    return tuple(int(m.group(1)) for m in parts) if all(parts) else None


def is_git_tree(micropy_dir):
    return os.path.exists(os.path.join(micropy_dir, ".git"))


def pinned_commit(micropy_dir, path):
    """The commit the MicroPython tree pins for submodule ``path``: from git in a checkout,
    from PINS_V1_28_0 in a v1.28.0 tree that is not one; else None."""
    if is_git_tree(micropy_dir):
        try:
            out = subprocess.run(["git", "-C", micropy_dir, "ls-tree", "HEAD", path],
                                 capture_output=True, text=True, timeout=30).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out[2] if len(out) >= 3 and out[1] == "commit" else None
    if tree_version(micropy_dir) == (1, 28, 0) and path in PINS_V1_28_0:
        return PINS_V1_28_0[path][1]
    return None


def fetch_hint(micropy_dir, board, paths):
    """How to fill the empty submodules ``paths`` of the tree: `make submodules` in a git
    checkout; in a tree without git, a clone of each at its pinned commit."""
    if is_git_tree(micropy_dir):
        return ("Fetch them with `make -C %s/ports/%s submodules` (docs/boards.md)."
                % (micropy_dir, PORTS[board][0]))
    lines = ["%s is not a git checkout, so `make submodules` cannot fetch them; clone each "
             "at the commit the tree pins (docs/boards.md, \"Getting the sources\"):"
             % micropy_dir]
    for path in paths:
        url_commit = PINS_V1_28_0.get(path) if tree_version(micropy_dir) == (1, 28, 0) else None
        if url_commit:
            where = os.path.join(micropy_dir, path)
            lines.append("    git clone %s %s && git -C %s checkout %s"
                         % (url_commit[0], where, where, url_commit[1]))
        else:
            lines.append("    %s: the commit in .gitmodules' history of your MicroPython "
                         "version (`git ls-tree vX.Y.Z %s` in a clone)" % (path, path))
    return "\n".join(lines)


def check_submodules(micropy_dir, board, env):
    missing = []
    for path in NEEDS.get(board, ()):
        where = os.path.join(micropy_dir, path)
        if path == "lib/pico-sdk" and env.get("PICO_SDK_PATH"):
            where = env["PICO_SDK_PATH"]
        if not os.path.isdir(where) or not os.listdir(where):
            missing.append(path)
    if missing:
        named = ["%s%s" % (p, " (pinned at %s)" % c if c else "")
                 for p, c in ((p, pinned_commit(micropy_dir, p)) for p in missing)]
        raise FirmwareError(
            "the %s build needs these submodules of %s, which are empty: %s.\n%s"
            % (board, micropy_dir, ", ".join(named), fetch_hint(micropy_dir, board, missing)))


def build_env(board, env=None, micropy_dir=None):
    """The environment for the port's make: rp2040's CMake arguments go in CMAKE_ARGS;
    esp32's freeze uses the tree's mpy-cross (``MICROPY_MPYCROSS``)."""
    env = dict(os.environ if env is None else env)
    if board == "rp2040":
        args = env.get("CMAKE_ARGS", "").split()
        if env.get("PICO_SDK_PATH"):
            args.append("-DPICO_SDK_PATH_OVERRIDE=" + env["PICO_SDK_PATH"])
        if env.get("PICOTOOL_DIR"):
            args.append("-Dpicotool_DIR=" + env["PICOTOOL_DIR"])
        if env.get("PICOTOOL_GIT_REPOSITORY_URL"):
            args.append("-DPICOTOOL_GIT_REPOSITORY_URL=" + env["PICOTOOL_GIT_REPOSITORY_URL"])
        env["CMAKE_ARGS"] = " ".join(args)
    if board == "esp32" and micropy_dir and not env.get("MICROPY_MPYCROSS"):
        # the mpy-cross built before the port: else the port's CMake remakes it with a make
        # that inherits our BUILD= (make passes it on) and writes into the firmware's genhdr
        env["MICROPY_MPYCROSS"] = os.path.join(micropy_dir, "mpy-cross", "build", "mpy-cross")
    return env


def esp32_build_dir(chip):
    return os.path.join(ROOT, "build", "firmware", "esp32-" + chip)


def build_dir(board, emulated=False, tests=False, network=None):
    """The port's BUILD directory. A network build's is ``<variant>/fw``: lwIP's objects go to
    $(BUILD)/$(LWIP_DIR), and an lwIP next to the tree (LWIP_DIR ``../lwip/src``) puts them in
    ``<variant>/lwip``, not beside the other variants' objects."""
    variant = board + ("-qemu" if emulated else "") + ("-tests" if tests else "")
    if network:
        return os.path.join(ROOT, "build", "firmware", variant + "-" + network, "fw")
    return os.path.join(ROOT, "build", "firmware", variant)


# stm32 --network ppp: lwIP and its PPP, as the port's Ethernet boards turn lwIP on.
NETWORKS = ("ppp",)
PPP_MAKE_ARGS = ("MICROPY_PY_LWIP=1",)
PPP_CFLAGS = "-DMICROPY_PY_NETWORK_PPP_LWIP=1"


def lwip_tree(micropy_dir, env=None):
    """The lwIP checkout to build with: the tree's lib/lwip if it has one, else ``LWIP_TREE``,
    else ``lwip`` next to the MicroPython tree; raises FirmwareError saying how to get it."""
    env = os.environ if env is None else env
    for where in (os.path.join(micropy_dir, "lib", "lwip"), env.get("LWIP_TREE", ""),
                  os.path.join(os.path.dirname(micropy_dir), "lwip")):
        if where and os.path.exists(os.path.join(where, "src", "core", "tcp.c")):
            return os.path.abspath(where)
    commit = pinned_commit(micropy_dir, "lib/lwip")
    raise FirmwareError(
        "NETWORK=ppp needs lwIP: %s/lib/lwip is empty. Fetch it (`git -C %s submodule update "
        "--init lib/lwip`), or clone https://github.com/lwip-tcpip/lwip%s elsewhere and set "
        "LWIP_TREE to it." % (micropy_dir, micropy_dir,
                              " at %s" % commit if commit else ""))


# stm32 --emulated --tests: the host tests and their runner frozen in too (test-firmware),
# with the unix port's memory statistics (micropython.mem_total: the transient-frame tests).
TESTS_MANIFEST = os.path.join(ROOT, "boards", "stm32", "qemu", "manifest_tests.py")
TESTS_CFLAGS = "-DMICROPY_MALLOC_USES_ALLOCATED_SIZE=1 -DMICROPY_MEM_STATS=1"
# Every stm32 build: MicroPython's map look-up cache at 1024 entries instead of 128 (+896 B of
# RAM). The cache is indexed by a qstr's number alone, and with 128 entries (64 usable by
# qstrs) a spawn's attribute names evict each other; asyncio's figures hardly move with it
# (docs/boards.md, "Spawn on 32-bit, session 8").
STM32_CFLAGS = "-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024"


def make_args(micropy_dir, board, mp_board=None, jobs=2, emulated=False, tests=False,
              network=None, lwip=None, chip=None):
    """The ``make`` command line for ``board``'s port (``lwip``: the checkout for --network;
    ``chip``: esp32's board directory boards/esp32/CHIP)."""
    port_dir, default_board, _images, _hint = PORTS[board]
    manifest = TESTS_MANIFEST if tests else os.path.join(
        ROOT, "boards", board, "manifest_ppp.py" if network else "manifest.py")
    build = esp32_build_dir(chip) if chip else build_dir(board, emulated, tests, network)
    cmd = ["make", "-C", os.path.join(micropy_dir, "ports", port_dir), "-j%d" % jobs,
           "FROZEN_MANIFEST=" + manifest, "BUILD=" + build]
    cflags = [STM32_CFLAGS] if board == "stm32" else []
    if tests:
        cflags.append(TESTS_CFLAGS)
    if network:
        cmd += list(PPP_MAKE_ARGS)
        cflags.append(PPP_CFLAGS)
        if lwip and lwip != os.path.join(micropy_dir, "lib", "lwip"):
            # extmod.mk names lwIP's files $(TOP)/$(LWIP_DIR)/...: a path relative to the tree
            cmd.append("LWIP_DIR=" + os.path.relpath(os.path.join(lwip, "src"), micropy_dir))
    if cflags:
        cmd.append("CFLAGS_EXTRA=" + " ".join(cflags))
    if emulated:
        cmd += ["BOARD=" + STM32_QEMU_BOARD, "BOARD_DIR=" + stm32_qemu_board_dir()]
    elif chip:
        cmd.append("BOARD_DIR=" + esp32_board_dir(chip))
    elif board == "rp2040":
        cmd += rp2040_build.board_args(mp_board)
    elif default_board:
        cmd.append("BOARD=" + (mp_board or default_board))
    return cmd


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
    build = build_dir("stm32", emulated=True, tests=tests, network=network)
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
        raise FirmwareError("%s/stm32l475xx.h: its USART_TypeDef is not the one expected "
                            "(4 16-bit registers and their padding)" % cmsis)
    _write_if_changed(os.path.join(build, "stm32l475xx.h"), head[:start] + usart + sep + rest)


def _write_if_changed(path, text):
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path, "w") as f:
        f.write(text)


TESTS_OVER = (": lower FROZEN_SOURCE_BUDGET in tools/testimage.py, the test modules frozen "
              "(the rest run from the mount)")


def _run_keeping_tail(cmd, env, tail, keep=40):
    """Run ``cmd``, its output passed on as it comes; its last ``keep`` lines into ``tail``.
    Returns its exit status."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    for line in proc.stdout:
        sys.stdout.write(line)
        tail.append(line)
        del tail[:-keep]
    sys.stdout.flush()
    return proc.wait()


def build(micropy_dir, board, mp_board=None, jobs=2, out=print, emulated=False, tests=False,
          network=None, chip=None):
    """Build the firmware image; returns its path. ``emulated``: stm32's build for qemu;
    ``tests`` (with it): the test image, the host tests frozen in too; ``network="ppp"``
    (stm32): lwIP with PPP; ``chip`` (esp32): the board boards/esp32/CHIP."""
    if chip and (board != "esp32" or chip not in ESP32_CHIPS):
        raise FirmwareError("CHIP=%s: only CHIP=%s, for BOARD=esp32" % (
            chip, "|".join(ESP32_CHIPS)))
    if emulated and board != "stm32":
        raise FirmwareError("--emulated is for BOARD=stm32 (the other boards' firmware boots "
                            "in its emulator as it is)")
    if tests and not emulated:
        raise FirmwareError("--tests is for BOARD=stm32 --emulated (the qemu test image)")
    if network and (board != "stm32" or network not in NETWORKS):
        raise FirmwareError("NETWORK=%s: only NETWORK=ppp, for BOARD=stm32" % network)
    micropy_dir = check_tree(micropy_dir, board)
    lwip = lwip_tree(micropy_dir) if network else None
    port_dir, _b, images, hint = PORTS[board]
    cross = os.path.join(micropy_dir, "mpy-cross", "build", "mpy-cross")
    if not os.path.exists(cross):
        out("building mpy-cross in %s/mpy-cross" % micropy_dir)
        if subprocess.run(["make", "-C", os.path.join(micropy_dir, "mpy-cross"),
                           "-j%d" % jobs]).returncode != 0:
            raise FirmwareError("building mpy-cross failed (it needs a C compiler)")
    env = build_env(board, micropy_dir=micropy_dir)
    if board == "esp32":
        check_esp_idf(env)
    check_submodules(micropy_dir, board, env)
    cmd = make_args(micropy_dir, board, mp_board, jobs, emulated, tests, network, lwip, chip)
    if board == "stm32":
        clean_on_new_cflags(build_dir(board, emulated, tests, network), cmd, out)
    if chip:
        refresh_sdkconfig(micropy_dir, chip, out)
    if board == "rp2040":
        rp2040_build.reconfigure_on_new_board(build_dir(board), micropy_dir, mp_board, out)
        rp2040_build.remove_images(build_dir(board))  # a failed link leaves none behind
    if emulated:
        write_stm32_qemu_board(micropy_dir, tests, network)
    if env.get("CMAKE_ARGS"):
        out("CMAKE_ARGS=%r (environment)" % env["CMAKE_ARGS"])
    out(" ".join(cmd))
    tail = []
    if _run_keeping_tail(cmd, env, tail) != 0:
        over = re.search(r"region `FLASH' overflowed by (\d+) bytes", "".join(tail))
        if over:
            raise FirmwareError(
                "the %s port's build failed: the image does not fit the board's flash (%s B "
                "over)%s." % (port_dir, over.group(1), TESTS_OVER if tests else ""))
        raise FirmwareError(
            "the %s port's build failed. It needs %s; missing submodules are fetched with "
            "`make -C %s/ports/%s submodules`." % (port_dir, hint, micropy_dir, port_dir))
    check_native_alignment(board, out)
    if board == "rp2040":
        rp2040_build.check_flash_room(build_dir(board), rp2040_build.fs_offset(micropy_dir,
                                                                               mp_board), out)
    built = esp32_build_dir(chip) if chip else build_dir(board, emulated, tests, network)
    for name in ("firmware.elf",) if emulated else images:
        path = os.path.join(built, name)
        if os.path.exists(path):
            out("firmware: %s" % path)
            return path
    raise FirmwareError("the build ended but left none of %s in %s" % (images, built))


SDKCONFIG_STAMP = "shimeji-sdkconfig-defaults.txt"
SDKCONFIG_DEFAULTS = re.compile(r"set\(SDKCONFIG_DEFAULTS\s+([^)]*)\)")


def sdkconfig_defaults(micropy_dir, chip):
    """The files ``boards/esp32/CHIP/mpconfigboard.cmake`` lists in ``SDKCONFIG_DEFAULTS``
    (a relative one is the esp32 port's, as ESP-IDF reads it), and that file itself."""
    board = esp32_board_dir(chip)
    cmake = os.path.join(board, "mpconfigboard.cmake")
    with open(cmake) as f:
        m = SDKCONFIG_DEFAULTS.search(f.read())
    paths = [cmake]
    for item in m.group(1).split() if m else ():
        item = item.replace("${CMAKE_CURRENT_LIST_DIR}", board)
        if not os.path.isabs(item):
            item = os.path.join(micropy_dir, "ports", "esp32", item)
        paths.append(os.path.normpath(item))
    return paths


def refresh_sdkconfig(micropy_dir, chip, out=print):
    """Delete ``build/firmware/esp32-CHIP/sdkconfig`` when the defaults it was made from
    changed since (or were not recorded), so that the build makes it again from them; then
    record them. ESP-IDF writes ``sdkconfig`` from ``SDKCONFIG_DEFAULTS`` once and keeps its
    values afterwards: a default changed in boards/esp32 never reached a build directory that
    had one (it had to be deleted by hand). Returns True if it was deleted."""
    import hashlib

    record = []
    for path in sdkconfig_defaults(micropy_dir, chip):
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            digest = "missing"
        record.append("%s %s\n" % (digest, path))
    record = "".join(record)
    build = esp32_build_dir(chip)
    stamp = os.path.join(build, SDKCONFIG_STAMP)
    sdkconfig = os.path.join(build, "sdkconfig")
    old = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            old = f.read()
    removed = False
    if os.path.exists(sdkconfig) and old != record:
        out("%s was made from other sdkconfig defaults (%s): deleted, the build makes it "
            "again" % (sdkconfig, "not recorded" if old is None else "changed since"))
        os.remove(sdkconfig)
        removed = True
    os.makedirs(build, exist_ok=True)
    with open(stamp, "w") as f:
        f.write(record)
    return removed


CFLAGS_STAMP = "shimeji-cflags.txt"


def clean_on_new_cflags(build, cmd, out=print):
    """Empty ``build`` when it was built with other ``CFLAGS_EXTRA`` than ``cmd`` has (or
    before they were recorded): make does not rebuild objects for a changed flag, and objects
    compiled with another ``MICROPY_OPT_MAP_LOOKUP_CACHE_SIZE`` disagree on the layout of
    MicroPython's state. Then records the flags."""
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "")
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--mp-board", help="a MicroPython board of the port (default: %s; for "
                    "rp2040 our boards/rp2040/pico, RPI_PICO with a smaller filesystem)"
                    % ", ".join("%s for %s" % (v[1], k) for k, v in sorted(PORTS.items())
                                if v[1] and k != "rp2040"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--boot", action="store_true", help="qemu only: boot the image on a pty")
    ap.add_argument("--emulated", action="store_true",
                    help="stm32 only: the B_L475E_IOT01A build that boots in qemu >= 9.0")
    ap.add_argument("--tests", action="store_true",
                    help="with --emulated: the test image (host tests frozen in, for "
                    "make test-firmware BOARD=stm32), in build/firmware/stm32-qemu-tests")
    ap.add_argument("--network", choices=NETWORKS,
                    help="stm32 only: lwIP with PPP (network.PPP over a UART, socket)")
    ap.add_argument("--chip", choices=ESP32_CHIPS,
                    help="esp32 only: the board boards/esp32/CHIP (c3: ESP32-C3, esp32: the "
                    "classic Xtensa ESP32, both without the radio; needs ESP-IDF v5.5 "
                    "exported)")
    args = ap.parse_args(argv)
    if args.board not in PORTS:
        print("error: say which board: make firmware BOARD=<%s> MICROPY_DIR=/path/to/micropython"
              "\n(BOARD=qemu needs no hardware: it boots in an emulator, see docs/boards.md)"
              % "|".join(sorted(PORTS)), file=sys.stderr)
        return 2
    try:
        image = build(args.micropy_dir, args.board, args.mp_board, args.jobs,
                      emulated=args.emulated, tests=args.tests, network=args.network,
                      chip=args.chip)
    except FirmwareError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    # make footprint reads these: the board's plain build, and stm32's for qemu (EMULATED=1)
    plain = not (args.tests or args.network or args.chip)
    if image.endswith((".elf", ".uf2", ".dfu", ".hex", ".bin")) and plain:
        import footprint

        footprint.print_flash(args.board, emulated=args.emulated)
    if args.boot:
        if args.board != "qemu":
            print("error: --boot is for BOARD=qemu", file=sys.stderr)
            return 2
        print("booting; qemu prints the UART's pty (char device redirected to /dev/pts/N).\n"
              "Then: make repl PORT=/dev/pts/N   (Ctrl-C here stops qemu)")
        sys.stdout.flush()
        from qemu_boot import qemu_command

        os.execvp("qemu-system-arm", qemu_command(image))
    return 0


if __name__ == "__main__":
    sys.exit(main())
