# shimeji: cpython-only (builds MicroPython's qemu port and boots it in qemu-system-arm)
# The frozen firmware on an emulated Cortex-M3 (mps2-an385): built from the MicroPython source
# tree in MICROPY_DIR (`make test MICROPY_DIR=~/micropython`), skipped when none is given.
import os
import re

import device
import pytest
import qemu_boot

import firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPY_DIR = os.environ.get("MICROPY_DIR", "")
needs_tree = pytest.mark.skipif(
    not MICROPY_DIR, reason="no MicroPython source tree: run `make test MICROPY_DIR=...` "
    "(needs arm-none-eabi-gcc and qemu-system-arm) to build and boot the qemu firmware")

_image = []


def _build():
    if not _image:
        _image.append(firmware.build(MICROPY_DIR, "qemu", out=lambda line: None))
    return _image[0]


@needs_tree
def test_qemu_firmware_builds_with_shimeji_frozen():
    image = _build()
    assert image == os.path.join(ROOT, "build", "firmware", "qemu", "firmware.elf")
    assert os.path.getsize(image) > 100000


@needs_tree
def test_qemu_firmware_boots_and_mpremote_drives_it():
    with qemu_boot.QemuBoard(_build()) as board:
        info = device.board_info(board.path)
        assert (info["platform"], info["board"]) == ("qemu", "qemu")
        out = device.mpremote(board.path, "exec",
                              "import shimeji, shimeji_board\n"
                              "print(shimeji.__file__, shimeji_board.Board.NAME)", timeout=30)
        assert out.strip().splitlines()[-1] == "shimeji/__init__.py qemu"  # frozen, not a file
        out = device.run(board.path, os.path.join(ROOT, "examples", "hello_tasks.py"),
                         timeout=60)
        assert "all joined" in out
        out = device.run(board.path, os.path.join(ROOT, "examples", "demo.py"), timeout=120)
        lines = out.strip().splitlines()
        assert lines[0].startswith("shimeji demo on the qemu board: 8 task slots")
        assert any(x.endswith("LED on") for x in lines)
        assert re.match(r"done after 4\.\d s: .* 0 button presses; 8 of 8 task slots free$",
                        lines[-1]), out
    assert not board.alive()


def test_the_qemu_boards_uart1_and_uart2_are_joined_by_a_tcp_cable():
    # The mps2-an385 gives its CMSDK UARTs the serial ports in order: UART0 the REPL's pty,
    # UART1 a TCP server, UART2 its client (host_tests/test_io_uart.py's cable there)
    cmd = qemu_boot.qemu_command("/b/firmware.elf", cable=(5124,))
    serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    assert serials == ["pty", "tcp:127.0.0.1:5124,server=on,wait=off", "tcp:127.0.0.1:5124"]
    assert cmd[cmd.index("-kernel") + 1] == "/b/firmware.elf"
    assert [a for a in qemu_boot.qemu_command("/b/firmware.elf") if a == "-serial"] == [
        "-serial"]
