"""Boot shimeji's firmware in an emulator and bring up its REPL, like a board on a port.

Usage: python tools/emulate.py BOARD [--micropy-dir DIR]   (BOARD: qemu, rp2040, stm32, esp32)

- ``qemu``: build/firmware/qemu/firmware.elf (built first when missing and MICROPY_DIR is
  given) in ``qemu-system-arm -machine mps2-an385``; the UART is a pty.
- ``stm32``: build/firmware/stm32-qemu/firmware.elf (``tools/firmware.py stm32 --emulated``:
  MicroPython's B_L475E_IOT01A changed for qemu) in qemu's ``b-l475e-iot01a`` machine, which
  needs qemu 9.0 or later (``STM32_QEMU`` names its qemu-system-arm); USART1 is a pty.
- ``esp32``: build/firmware/esp32-c3/firmware.bin (``make firmware BOARD=esp32 CHIP=c3``)
  padded to the C3's 4 MB flash, in the ``esp32c3`` machine of Espressif's qemu fork
  (``ESP32_QEMU`` names its qemu-system-riscv32; the fork's ROM image esp32c3-rom.bin sits
  in its pc-bios); UART0, the REPL, is a pty. ``CHIP=esp32``: build/firmware/esp32-esp32/
  firmware.bin (``make firmware BOARD=esp32 CHIP=esp32``, the classic Xtensa ESP32) at 0x1000
  of a 4 MB flash, in the same fork's ``esp32`` machine (``ESP32_XTENSA_QEMU`` names its
  qemu-system-xtensa; ROM image esp32-v3-rom.bin).
- ``rp2040``: build/firmware/rp2040/firmware.uf2 in the ``rp2040js`` emulator (npm package,
  installed where ``RP2040JS_DIR`` points: its ``node_modules`` holds rp2040js, and
  ``bootrom.ts`` there is rp2040js's demo/bootrom.ts, which npm does not ship); the USB-CDC
  REPL is bridged to a TCP port on 127.0.0.1 (tools/rp2040_emu.mjs). The emulator runs
  core 0 only (a ``_thread`` hangs the firmware) at about 0.2x real time, in emulated time.
  ``--dual`` (``DUAL=1``): the same firmware on both cores (tools/rp2040_dual_emu.mjs), in a
  build of the two-core fork github.com/c1570/rp2040js (branch rp2350js/WIP, built from
  source with the fix docs/boards.md gives) where ``RP2040JS_DUAL_DIR`` points; ``_thread``
  runs on core 1 there, at about 0.07-0.1x real time.

Prints the port to give mpremote (``/dev/pts/N`` or ``socket://127.0.0.1:N``) and keeps the
emulator running until Ctrl-C. ``booted()`` is the same for tools (fwtest, bench): a context
manager that yields the port and stops the emulator at the end. When something is missing
(no firmware and no tree, no qemu, no node or rp2040js) it raises ``Unavailable`` saying what.
"""

import argparse
import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qemu_boot  # noqa: E402
from emulated_images import ESP32_QUIET_S, Unavailable, esp32_chip, firmware_image  # noqa: E402

import firmware  # noqa: E402

ROOT = firmware.ROOT
EMU_SCRIPT = os.path.join(ROOT, "tools", "rp2040_emu.mjs")
DUAL_EMU_SCRIPT = os.path.join(ROOT, "tools", "rp2040_dual_emu.mjs")


# The last bytes of the RP2040 emulator's own output kept (its error when it exits).
TAIL_BYTES = 8192

# Boards whose emulator cannot run a second thread although the port has _thread.
NO_SECOND_THREAD = {"rp2040": "the RP2040 emulator (rp2040js) does not run core 1"}


def wait_for_prompt(emu, timeout=120.0, quiet=0.0):
    """Wait until the firmware on ``emu``'s pty answers a line with the REPL prompt. The C3
    takes a few seconds to boot in qemu (more on its first boot, which formats the flash's
    filesystem), and an mpremote that talked to it before then waited forever. ``quiet``:
    for that many seconds send nothing, only wait for the banner's prompt (the classic ESP32:
    in the unpatched fork, a byte that reaches UART0 before ESP-IDF remaps the ROM's UART
    interrupt panics the firmware in its task watchdog's ISR; docs/boards.md)."""
    import serial

    start = time.monotonic()
    deadline = start + timeout
    seen = b""
    with serial.Serial(emu.path, 115200, timeout=0.5) as port:
        while time.monotonic() < deadline and emu.alive():
            if time.monotonic() - start >= quiet:
                port.write(b"\r\n")
            seen = (seen + port.read(256))[-2000:]
            if b">>> " in seen:
                return
    raise firmware.FirmwareError("the firmware in qemu did not reach its REPL prompt within "
                                 "%d s: %r" % (timeout, seen[-300:]))


def rp2040js_dir():
    """The directory whose node_modules holds rp2040js (RP2040JS_DIR), or raise."""
    if not shutil.which("node"):
        raise Unavailable("node not found: the RP2040 emulator (rp2040js) runs on Node.js")
    for d in (os.environ.get("RP2040JS_DIR", ""), os.path.join(ROOT, "build", "rp2040js")):
        if d and os.path.isdir(os.path.join(d, "node_modules", "rp2040js")):
            if not os.path.exists(os.path.join(d, "bootrom.ts")):
                raise Unavailable("no RP2040 bootrom in %s: copy demo/bootrom.ts of "
                                  "github.com/wokwi/rp2040js there (docs/boards.md)" % d)
            return os.path.abspath(d)
    raise Unavailable(
        "rp2040js not found: `npm install --prefix DIR rp2040js@1.4.1`, copy "
        "github.com/wokwi/rp2040js's demo/bootrom.ts into DIR, then set RP2040JS_DIR=DIR "
        "(see docs/boards.md)")


def dual_from_env():
    """``DUAL=1`` in the environment (make's ``DUAL=1``): the two-core RP2040 emulator."""
    return os.environ.get("DUAL", "") not in ("", "0")


def rp2040js_dual_dir():
    """The build of the two-core rp2040js fork (RP2040JS_DUAL_DIR), or raise."""
    if not shutil.which("node"):
        raise Unavailable("node not found: the RP2040 emulator (rp2040js) runs on Node.js")
    for d in (os.environ.get("RP2040JS_DUAL_DIR", ""), os.path.join(ROOT, "build",
                                                                    "rp2040js-dual")):
        if d and os.path.exists(os.path.join(d, "dist", "cjs", "index.js")):
            if not os.path.exists(os.path.join(d, "demo", "bootrom.ts")):
                raise Unavailable("no RP2040 bootrom in %s/demo/bootrom.ts: the fork's "
                                  "checkout has it (docs/boards.md)" % d)
            return os.path.abspath(d)
    raise Unavailable(
        "no two-core RP2040 emulator: build github.com/c1570/rp2040js (branch rp2350js/WIP) "
        "with `npm install --ignore-scripts && npx tsc` and the one-line fix in "
        "docs/boards.md (\"Core 1 runs in the fork\"), then set RP2040JS_DUAL_DIR to it")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Rp2040Emulator:
    """rp2040js running ``image``; its USB-CDC REPL on ``self.path`` (socket://...)."""

    def __init__(self, image, timeout=120.0, dual=False):
        self.image = image
        self.timeout = timeout * (3 if dual else 1)  # the two-core fork is 2-3x slower
        self.dual = dual
        self.proc = None
        self.path = None
        self.tail = b""
        self._reader = None

    def start(self):
        port = _free_port()
        if self.dual:
            modules = rp2040js_dual_dir()
            env = dict(os.environ, RP2040JS_DUAL_DIR=modules)
            script = DUAL_EMU_SCRIPT
        else:
            modules = rp2040js_dir()
            env = dict(os.environ, NODE_PATH=os.path.join(modules, "node_modules"))
            script = EMU_SCRIPT
        self.proc = subprocess.Popen(
            ["node", script, self.image, str(port)], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=modules,
            start_new_session=True)
        deadline = time.monotonic() + self.timeout
        seen = b""
        fd = self.proc.stdout.fileno()
        # select, not readline: an emulator that prints nothing (a firmware that never
        # brings up USB) blocked readline past the deadline for good
        while time.monotonic() < deadline and self.proc.poll() is None:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(fd, 4096)
            seen += chunk
            if b"USB-CDC ready" in seen:
                self.path = "socket://127.0.0.1:%d" % port
                self.tail = seen[-TAIL_BYTES:]
                self._reader = threading.Thread(target=self._drain, args=(fd,), daemon=True)
                self._reader.start()
                return self
            if not chunk:
                break
        self.stop()
        raise Unavailable("the RP2040 emulator did not bring up USB-CDC: %s" % seen.decode(
            errors="replace")[-2000:])

    def _drain(self, fd):
        """Read the emulator's output for as long as it runs, keeping its last TAIL_BYTES.
        Nothing read it after the start: what it printed later (rp2040js's error before it
        throws and exits, the board's output with RP2040_ECHO while no client is connected)
        was lost, and Node kept every unread byte in memory."""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.tail = (self.tail + chunk)[-TAIL_BYTES:]

    def exit_note(self):
        """None while the emulator runs; once it has exited, its status and last output."""
        if self.proc is None or self.proc.poll() is None:
            return None
        if self._reader is not None:
            self._reader.join(2)
        return "the RP2040 emulator exited (status %s); its last output: %s" % (
            self.proc.returncode, self.tail.decode(errors="replace").strip()[-1000:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._reader is not None:
            self._reader.join(2)
            self._reader = None
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


class Emulated:
    """``board``'s firmware running in its emulator: ``path`` is the port for mpremote;
    ``restart()`` boots it again (after a test that hung the board), ``stop()`` ends it."""

    def __init__(self, board, micropy_dir="", icount=False, dual=False, tests=False):
        if dual and board != "rp2040":
            raise Unavailable("DUAL=1 is for BOARD=rp2040 (its two-core emulator), not %s"
                              % board)
        self.board = board
        self.chip = esp32_chip() if board == "esp32" else None
        self.image = firmware_image(board, micropy_dir, tests)
        self.icount = icount
        self.dual = dual
        self.emu = None
        self.path = None

    def start(self):
        if self.board in ("qemu", "stm32", "esp32"):
            machine = "mps2-an385"
            image = self.image
            try:
                if self.board == "esp32" and self.chip == "esp32":
                    machine = qemu_boot.ESP32_QEMU_MACHINE
                    qemu_boot.esp32_qemu()
                    image = qemu_boot.esp32_flash(self.image, self._flash_path())
                elif self.board == "esp32":
                    machine = qemu_boot.ESP32C3_QEMU_MACHINE
                    qemu_boot.esp32c3_qemu()
                    image = qemu_boot.esp32c3_flash(self.image, self._flash_path())
                elif self.board == "stm32":
                    machine = qemu_boot.STM32_QEMU_MACHINE
                    qemu_boot.stm32_qemu()
                elif not shutil.which("qemu-system-arm"):
                    raise firmware.FirmwareError("qemu-system-arm not found (Debian: apt-get "
                                                 "install qemu-system-arm)")
            except firmware.FirmwareError as e:
                raise Unavailable(str(e)) from e
            emu = qemu_boot.QemuBoard(image, icount=self.icount, machine=machine)
            try:
                emu.start()
                if self.board == "esp32":
                    wait_for_prompt(emu, quiet=ESP32_QUIET_S if self.chip == "esp32" else 0)
            except firmware.FirmwareError as e:
                emu.stop()
                raise Unavailable(str(e)) from e
        else:
            emu = Rp2040Emulator(self.image, dual=self.dual)
            emu.start()
        self.emu = emu
        self.path = emu.path
        return self

    def _flash_path(self):
        """This emulator's own copy of the ESP32's flash (several may run: ``--jobs``)."""
        return os.path.join(os.path.dirname(self.image), "qemu-flash-%d.bin" % id(self))

    def stop(self):
        if self.emu is not None:
            self.emu.stop()
            self.emu = None
            if self.board == "esp32":
                flash = self._flash_path()
                for path in (flash, qemu_boot.esp32c3_efuse_path(flash)):
                    if os.path.exists(path):
                        os.remove(path)

    def restart(self):
        note = getattr(self.emu, "exit_note", lambda: None)()
        if note:  # the emulator itself died (not the board hung): say why before the next
            print(note)
        self.stop()
        return self.start().path


@contextlib.contextmanager
def emulated(board, micropy_dir="", icount=False, dual=False, tests=False):
    """Boot ``board``'s firmware in its emulator; yields the ``Emulated`` (stopped at the
    end). ``icount`` (qemu): count time in guest instructions, for benchmarks. ``dual``
    (rp2040): both cores, in the two-core fork. ``tests`` (stm32): the test image."""
    emu = Emulated(board, micropy_dir, icount, dual, tests).start()
    try:
        yield emu
    finally:
        emu.stop()


@contextlib.contextmanager
def booted(board, micropy_dir="", icount=False, dual=False):
    """As ``emulated``, yielding only the port for mpremote."""
    with emulated(board, micropy_dir, icount, dual) as emu:
        yield emu.path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "rp2040")
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--dual", action="store_true", default=dual_from_env(),
                    help="rp2040: run core 1 too (the two-core fork, RP2040JS_DUAL_DIR)")
    args = ap.parse_args(argv)
    # a kill (SIGTERM) ends the emulator too: qemu runs in its own session; so does SIGINT
    # when started in the background (`cmd &` ignores it there, and Python keeps that)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with booted(args.board, args.micropy_dir, dual=args.dual) as port:
            print("%s firmware is up. Its REPL: mpremote connect %s   (make repl PORT=%s)\n"
                  "Ctrl-C stops the emulator." % (args.board, port, port))
            sys.stdout.flush()
            while True:
                time.sleep(3600)
    except Unavailable as e:
        print("skipped: %s" % e)
        return 0
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
