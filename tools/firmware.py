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
``make test-firmware BOARD=stm32`` boots. ``--emulated --second-tests`` is the second test
image (build/firmware/stm32-qemu-tests2): the test modules the first leaves out for its flash
budget (tools/testimage.py), which fwtest boots after the first for them.

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
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import esp32_build  # noqa: E402
import micropy_tree  # noqa: E402
import rp2040_build  # noqa: E402
import stm32_build  # noqa: E402
import testimage  # noqa: E402
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


def build_dir(board, emulated=False, tests=False, network=None):
    """The port's BUILD directory. A network build's is ``<variant>/fw``: lwIP's objects go to
    $(BUILD)/$(LWIP_DIR), and an lwIP next to the tree (LWIP_DIR ``../lwip/src``) puts them in
    ``<variant>/lwip``, not beside the other variants' objects."""
    variant = board + ("-qemu" if emulated else "") + ("-tests" if tests else "") + (
        "2" if tests == 2 else "")  # (the second test image: tests=2)
    if network:
        return os.path.join(ROOT, "build", "firmware", variant + "-" + network, "fw")
    return os.path.join(ROOT, "build", "firmware", variant)


def make_args(micropy_dir, board, mp_board=None, jobs=2, emulated=False, tests=False,
              network=None, lwip=None, chip=None):
    """The ``make`` command line for ``board``'s port (``lwip``: the checkout for --network;
    ``chip``: esp32's board directory boards/esp32/CHIP)."""
    port_dir, default_board, _images, _hint = PORTS[board]
    manifest = stm32_build.TESTS_MANIFEST if tests else os.path.join(
        ROOT, "boards", board, "manifest_ppp.py" if network else "manifest.py")
    if chip:
        build = esp32_build.esp32_build_dir(chip)
    else:
        build = build_dir(board, emulated, tests, network)
    cmd = ["make", "-C", os.path.join(micropy_dir, "ports", port_dir), "-j%d" % jobs,
           "FROZEN_MANIFEST=" + manifest, "BUILD=" + build]
    cflags = [stm32_build.STM32_CFLAGS] if board == "stm32" else []
    if tests:
        cflags.append(stm32_build.TESTS_CFLAGS)
    if network:
        cmd += list(stm32_build.PPP_MAKE_ARGS)
        cflags.append(stm32_build.PPP_CFLAGS)
        if lwip and lwip != os.path.join(micropy_dir, "lib", "lwip"):
            # extmod.mk names lwIP's files $(TOP)/$(LWIP_DIR)/...: a path relative to the tree
            cmd.append("LWIP_DIR=" + os.path.relpath(os.path.join(lwip, "src"), micropy_dir))
    if cflags:
        cmd.append("CFLAGS_EXTRA=" + " ".join(cflags))
    if emulated:
        cmd += ["BOARD=" + stm32_build.STM32_QEMU_BOARD,
                "BOARD_DIR=" + stm32_build.stm32_qemu_board_dir()]
    elif chip:
        cmd.append("BOARD_DIR=" + esp32_build.esp32_board_dir(chip))
    elif board == "rp2040":
        cmd += rp2040_build.board_args(mp_board)
    elif default_board:
        cmd.append("BOARD=" + (mp_board or default_board))
    return cmd


TESTS_OVER = (" after the frozen test source was lowered to %d B: lower FROZEN_SOURCE_BUDGET in "
              "tools/testimage.py and delete %s in the build directory")
SECOND_OVER = (": the second test image holds what the first (frozen test source %d B) leaves "
               "out; a first image built with a larger budget leaves out less")
_TRIES = 3  # links of a test image: the first, and twice with the budget lowered


def _make(cmd, env, board, tests, out):
    """Run the port's make; a test image whose link overflows the flash is built again with
    the frozen test source lowered (tools/testimage.py), and the budget it fit with recorded.
    The second test image (``tests=2``) freezes what the first, as built, leaves out: planned
    from the first's budget, which it records. ``(exit status, output's tail, budget)``."""
    where = build_dir(board, True, tests) if tests else None
    budget = testimage.next_budget(where) if tests else None
    env.pop(testimage.PART_ENV, None)
    tries = _TRIES
    if tests == 2:
        budget = testimage.built(build_dir(board, True, True))[0]
        env[testimage.PART_ENV] = "2"
        tries = 1  # (its modules are the first's left-out ones: no budget of its own to lower)
    for attempt in range(tries):
        if tests:
            env[testimage.BUDGET_ENV] = str(budget)
        tail = []
        code = _run_keeping_tail(cmd, env, tail)
        over = code and re.search(r"region `FLASH' overflowed by (\d+) bytes", "".join(tail))
        if not (tests and over and attempt + 1 < tries):
            break
        lower = testimage.lowered(budget, int(over.group(1)))
        out("the test image is %s B over the flash: frozen test source %d -> %d B, linking "
            "again" % (over.group(1), budget, lower))
        budget = lower
    if tests and code == 0:
        ld = os.path.join(stm32_build.STM32_QEMU_CHANGES, "stm32l475_qemu.ld")
        spare = testimage.record(where, budget, "".join(tail), testimage.flash_bytes(ld))
        if tests == 2:
            out("second test image: the test modules the first (frozen test source %d B) "
                "leaves out, %s B of flash spare" % (budget, spare))
        else:
            out("test image: frozen test source %d B, %s B of flash spare" % (budget, spare))
    return code, tail, budget


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
    if chip and (board != "esp32" or chip not in esp32_build.ESP32_CHIPS):
        raise FirmwareError("CHIP=%s: only CHIP=%s, for BOARD=esp32" % (
            chip, "|".join(esp32_build.ESP32_CHIPS)))
    if emulated and board != "stm32":
        raise FirmwareError("--emulated is for BOARD=stm32 (the other boards' firmware boots "
                            "in its emulator as it is)")
    if tests and not emulated:
        raise FirmwareError("--tests is for BOARD=stm32 --emulated (the qemu test image)")
    if network and (board != "stm32" or network not in stm32_build.NETWORKS):
        raise FirmwareError("NETWORK=%s: only NETWORK=ppp, for BOARD=stm32" % network)
    micropy_dir = micropy_tree.check_tree(micropy_dir, board)
    lwip = micropy_tree.lwip_tree(micropy_dir) if network else None
    port_dir, _b, images, hint = PORTS[board]
    cross = os.path.join(micropy_dir, "mpy-cross", "build", "mpy-cross")
    if not os.path.exists(cross):
        out("building mpy-cross in %s/mpy-cross" % micropy_dir)
        if subprocess.run(["make", "-C", os.path.join(micropy_dir, "mpy-cross"),
                           "-j%d" % jobs]).returncode != 0:
            raise FirmwareError("building mpy-cross failed (it needs a C compiler)")
    env = build_env(board, micropy_dir=micropy_dir)
    if board == "esp32":
        esp32_build.check_esp_idf(env)
    micropy_tree.check_submodules(micropy_dir, board, env)
    cmd = make_args(micropy_dir, board, mp_board, jobs, emulated, tests, network, lwip, chip)
    if board == "stm32":
        stm32_build.clean_on_new_cflags(build_dir(board, emulated, tests, network), cmd, out)
    if chip:
        esp32_build.refresh_sdkconfig(micropy_dir, chip, out)
    if board == "rp2040":
        rp2040_build.reconfigure_on_new_board(build_dir(board), micropy_dir, mp_board, out)
        rp2040_build.remove_images(build_dir(board))  # a failed link leaves none behind
    if emulated:
        stm32_build.write_stm32_qemu_board(micropy_dir, tests, network)
    if env.get("CMAKE_ARGS"):
        out("CMAKE_ARGS=%r (environment)" % env["CMAKE_ARGS"])
    out(" ".join(cmd))
    code, tail, budget = _make(cmd, env, board, tests, out)
    if code != 0:
        over = re.search(r"region `FLASH' overflowed by (\d+) bytes", "".join(tail))
        if over:
            raise FirmwareError(
                "the %s port's build failed: the image does not fit the board's flash (%s B "
                "over)%s." % (port_dir, over.group(1), (SECOND_OVER % budget) if tests == 2
                              else TESTS_OVER % (budget, testimage.BUDGET_FILE) if tests
                              else ""))
        raise FirmwareError(
            "the %s port's build failed. It needs %s; missing submodules are fetched with "
            "`make -C %s/ports/%s submodules`." % (port_dir, hint, micropy_dir, port_dir))
    check_native_alignment(board, out)
    if board == "rp2040":
        rp2040_build.check_flash_room(build_dir(board), rp2040_build.fs_offset(micropy_dir,
                                                                               mp_board), out)
    if chip:
        built = esp32_build.esp32_build_dir(chip)
    else:
        built = build_dir(board, emulated, tests, network)
    for name in ("firmware.elf",) if emulated else images:
        path = os.path.join(built, name)
        if os.path.exists(path):
            out("firmware: %s" % path)
            return path
    raise FirmwareError("the build ended but left none of %s in %s" % (images, built))


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
    ap.add_argument("--second-tests", action="store_true",
                    help="with --emulated: the second test image (the test modules the first "
                    "leaves out for its flash budget), in build/firmware/stm32-qemu-tests2")
    ap.add_argument("--network", choices=stm32_build.NETWORKS,
                    help="stm32 only: lwIP with PPP (network.PPP over a UART, socket)")
    ap.add_argument("--chip", choices=esp32_build.ESP32_CHIPS,
                    help="esp32 only: the board boards/esp32/CHIP (c3: ESP32-C3, esp32: the "
                    "classic Xtensa ESP32, both without the radio; needs ESP-IDF v5.5 "
                    "exported)")
    ap.add_argument("--ram", action="store_true", help="after the build, boot it in its "
                    "emulator and print the RAM after import per subpackage (make footprint's)")
    args = ap.parse_args(argv)
    if args.board not in PORTS:
        print("error: say which board: make firmware BOARD=<%s> MICROPY_DIR=/path/to/micropython"
              "\n(BOARD=qemu needs no hardware: it boots in an emulator, see docs/boards.md)"
              % "|".join(sorted(PORTS)), file=sys.stderr)
        return 2
    try:
        image = build(args.micropy_dir, args.board, args.mp_board, args.jobs,
                      emulated=args.emulated, tests=2 if args.second_tests else args.tests,
                      network=args.network,
                      chip=args.chip)
    except FirmwareError as e:  # no tree at all: say what to fetch and skip, as every target
        skip = getattr(e, "no_tree", False)
        print(("skipped: %s" if skip else "error: %s") % e, file=None if skip else sys.stderr)
        return 0 if skip else 2
    # make footprint reads these: the board's plain build, and stm32's for qemu (EMULATED=1)
    plain = not (args.tests or args.second_tests or args.network or args.chip)
    if image.endswith((".elf", ".uf2", ".dfu", ".hex", ".bin")) and plain:
        import footprint

        footprint.print_flash(args.board, emulated=args.emulated)
        ram_here = args.board in ("rp2040", "qemu") or (args.board == "stm32" and args.emulated)
        if args.ram and ram_here:
            footprint.print_ram(args.board)
        elif args.ram:
            print("RAM not measured: this image boots in no emulator here (rp2040, qemu and "
                  "stm32 EMULATED=1 do)")
        elif ram_here:
            print("(RAM after import: RAM=1, which boots it in its emulator; or make footprint "
                  "BOARD=%s%s RAM=1)" % (args.board, " EMULATED=1" if args.emulated else ""))
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
    import firmware  # one module: the build modules raise firmware.FirmwareError, main catches it

    sys.exit(firmware.main())
