"""Build MicroPython firmware with shimeji frozen in, from a MicroPython source tree you have.

Usage: python tools/firmware.py BOARD --micropy-dir DIR [--mp-board NAME] [--jobs N]
       python tools/firmware.py qemu --micropy-dir DIR --boot   (build, then boot it on a pty)

BOARD is a directory of boards/ (rp2040, esp32, stm32, unix, qemu). The port's own ``make`` is
run with ``FROZEN_MANIFEST=boards/BOARD/manifest.py`` and ``BUILD=build/firmware/BOARD``, so
nothing is written into your MicroPython tree except its mpy-cross. Each port needs its own
toolchain (see docs/boards.md): arm-none-eabi-gcc for rp2040 (plus cmake), stm32 and qemu;
ESP-IDF for esp32. Prints the path of the image it built.

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
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# board -> (port directory, MicroPython board, image files to look for, toolchain hint)
PORTS = {
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
        raise FirmwareError(
            "freezing needs the micropython-lib submodule of %s. Fetch the port's submodules "
            "once:\n    make -C %s/ports/%s submodules" % (micropy_dir, micropy_dir, port_dir))
    return micropy_dir


# Submodules each port's build reads (checked before building, so a missing one is named).
NEEDS = {
    "rp2040": ("lib/pico-sdk", "lib/tinyusb", "lib/mbedtls", "lib/micropython-lib"),
    "stm32": ("lib/stm32lib", "lib/micropython-lib"),
    "esp32": ("lib/micropython-lib",),
    "qemu": ("lib/micropython-lib",),
    "unix": ("lib/micropython-lib",),
}


def pinned_commit(micropy_dir, path):
    """The commit the MicroPython tree pins for submodule ``path`` (None if not a git tree)."""
    try:
        out = subprocess.run(["git", "-C", micropy_dir, "ls-tree", "HEAD", path],
                             capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out[2] if len(out) >= 3 and out[1] == "commit" else None


def check_submodules(micropy_dir, board, env):
    missing = []
    for path in NEEDS.get(board, ()):
        where = os.path.join(micropy_dir, path)
        if path == "lib/pico-sdk" and env.get("PICO_SDK_PATH"):
            where = env["PICO_SDK_PATH"]
        if not os.path.isdir(where) or not os.listdir(where):
            commit = pinned_commit(micropy_dir, path)
            missing.append("%s%s" % (path, " (pinned at %s)" % commit if commit else ""))
    if missing:
        raise FirmwareError(
            "the %s build needs these submodules of %s, which are empty: %s.\nFetch them "
            "with `make -C %s/ports/%s submodules`, or clone each at the pinned commit "
            "(docs/boards.md)." % (board, micropy_dir, ", ".join(missing), micropy_dir,
                                   PORTS[board][0]))


def build_env(board, env=None):
    """The environment for the port's make: rp2040's CMake arguments go in CMAKE_ARGS."""
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
    return env


def build_dir(board):
    return os.path.join(ROOT, "build", "firmware", board)


def make_args(micropy_dir, board, mp_board=None, jobs=2):
    """The ``make`` command line for ``board``'s port."""
    port_dir, default_board, _images, _hint = PORTS[board]
    cmd = ["make", "-C", os.path.join(micropy_dir, "ports", port_dir), "-j%d" % jobs,
           "FROZEN_MANIFEST=" + os.path.join(ROOT, "boards", board, "manifest.py"),
           "BUILD=" + build_dir(board)]
    if default_board:
        cmd.append("BOARD=" + (mp_board or default_board))
    return cmd


def build(micropy_dir, board, mp_board=None, jobs=2, out=print):
    """Build the firmware image; returns its path."""
    micropy_dir = check_tree(micropy_dir, board)
    port_dir, _b, images, hint = PORTS[board]
    cross = os.path.join(micropy_dir, "mpy-cross", "build", "mpy-cross")
    if not os.path.exists(cross):
        out("building mpy-cross in %s/mpy-cross" % micropy_dir)
        if subprocess.run(["make", "-C", os.path.join(micropy_dir, "mpy-cross"),
                           "-j%d" % jobs]).returncode != 0:
            raise FirmwareError("building mpy-cross failed (it needs a C compiler)")
    env = build_env(board)
    check_submodules(micropy_dir, board, env)
    cmd = make_args(micropy_dir, board, mp_board, jobs)
    if env.get("CMAKE_ARGS"):
        out("CMAKE_ARGS=%r (environment)" % env["CMAKE_ARGS"])
    out(" ".join(cmd))
    if subprocess.run(cmd, env=env).returncode != 0:
        raise FirmwareError(
            "the %s port's build failed. It needs %s; missing submodules are fetched with "
            "`make -C %s/ports/%s submodules`." % (port_dir, hint, micropy_dir, port_dir))
    check_native_alignment(board)
    for name in images:
        path = os.path.join(build_dir(board), name)
        if os.path.exists(path):
            out("firmware: %s" % path)
            return path
    raise FirmwareError("the build ended but left none of %s in %s" % (images, build_dir(board)))


def check_native_alignment(board):
    """Refuse an rp2040 image whose frozen native code is 2-byte aligned (it faults on the
    Cortex-M0+): the patched mpy-tool (tools/native_align.py) was not used for it."""
    content = os.path.join(build_dir(board), "frozen_content.c")
    if board != "rp2040" or not os.path.exists(content):
        return
    with open(content) as f:
        if "aligned (2)" in f.read():
            raise FirmwareError(
                "%s has frozen native code aligned to 2 bytes, which faults on the RP2040's "
                "Cortex-M0+: the freeze did not run the patched mpy-tool.py "
                "(tools/native_align.py). Delete %s and build again, or freeze bytecode "
                "(bytecode=True in boards/rp2040/manifest.py)." % (content, build_dir(board)))


def qemu_command(image, serial="pty", icount=False):
    """qemu-system-arm booting ``image`` on mps2-an385, its UART on ``serial``. ``icount``:
    one guest instruction per emulated nanosecond (``-icount shift=0``), for benchmarks
    that repeat from run to run whatever the host's load."""
    return ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-monitor", "null",
            "-semihosting", "-serial", serial, "-kernel", image] + (
                ["-icount", "shift=0"] if icount else [])


class QemuBoard:
    """The qemu firmware booted in ``qemu-system-arm`` with its UART on a pty (``self.path``,
    for ``mpremote connect PATH resume ...``). ``stop()`` ends qemu."""

    def __init__(self, image, icount=False):
        self.image = image
        self.icount = icount
        self.proc = None
        self.path = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=20.0):
        import re
        import shutil
        import time

        if not shutil.which("qemu-system-arm"):
            raise FirmwareError("qemu-system-arm not found (Debian: apt-get install "
                                "qemu-system-arm)")
        self.proc = subprocess.Popen(qemu_command(self.image, icount=self.icount),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            seen += self.proc.stdout.readline()
            m = re.search(rb"redirected to (/dev/pts/\d+)", seen)
            if m:
                self.path = m.group(1).decode()
                return self
        self.stop()
        raise FirmwareError("qemu did not open a pty for the UART: %s" % seen.decode())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "")
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--mp-board", help="the port's board name (default: %s)" % ", ".join(
        "%s for %s" % (v[1], k) for k, v in sorted(PORTS.items()) if v[1]))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--boot", action="store_true", help="qemu only: boot the image on a pty")
    args = ap.parse_args(argv)
    if args.board not in PORTS:
        print("error: say which board: make firmware BOARD=<%s> MICROPY_DIR=/path/to/micropython"
              "\n(BOARD=qemu needs no hardware: it boots in an emulator, see docs/boards.md)"
              % "|".join(sorted(PORTS)), file=sys.stderr)
        return 2
    try:
        image = build(args.micropy_dir, args.board, args.mp_board, args.jobs)
    except FirmwareError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    if image.endswith((".elf", ".uf2", ".dfu", ".hex", ".bin")):
        import footprint

        footprint.print_flash(args.board)
    if args.boot:
        if args.board != "qemu":
            print("error: --boot is for BOARD=qemu", file=sys.stderr)
            return 2
        print("booting; qemu prints the UART's pty (char device redirected to /dev/pts/N).\n"
              "Then: make repl PORT=/dev/pts/N   (Ctrl-C here stops qemu)")
        sys.stdout.flush()
        os.execvp("qemu-system-arm", qemu_command(image))
    return 0


if __name__ == "__main__":
    sys.exit(main())
