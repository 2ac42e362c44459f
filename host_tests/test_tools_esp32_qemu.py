# shimeji: cpython-only (the ESP32-C3 firmware in Espressif's qemu fork: files, subprocesses)
# The command line, flash and eFuse images are checked everywhere; the boot itself runs when
# ESP32_QEMU names a qemu-system-riscv32 with the esp32c3 machine and the C3 firmware is built
# (`make firmware BOARD=esp32 CHIP=c3`), and is skipped, saying which is missing, otherwise;
# the same for the classic ESP32 (CHIP=esp32) in the fork's qemu-system-xtensa.
import os

import device
import emulate
import pytest
import qemu_boot

import firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C3_IMAGE = os.path.join(ROOT, "build", "firmware", "esp32-c3", "firmware.bin")


def _qemu_or_none():
    try:
        return qemu_boot.esp32c3_qemu()
    except firmware.FirmwareError:
        return None


def test_the_flash_image_is_the_firmware_padded_to_4_mb_of_erased_flash(tmp_path):
    fw = tmp_path / "firmware.bin"
    fw.write_bytes(b"\xe9" + bytes(range(256)) * 4)
    flash = qemu_boot.esp32c3_flash(str(fw), str(tmp_path / "flash.bin"))
    data = open(flash, "rb").read()
    assert len(data) == 4 * 1024 * 1024
    assert data[:1025] == fw.read_bytes()
    assert data[1025:] == b"\xff" * (len(data) - 1025)
    efuse = open(str(tmp_path / "flash-efuse.bin"), "rb").read()
    assert efuse == qemu_boot.esp32c3_efuses()


def test_a_firmware_larger_than_the_flash_is_refused(tmp_path):
    fw = tmp_path / "firmware.bin"
    fw.write_bytes(b"\0" * (4 * 1024 * 1024 + 1))
    with pytest.raises(firmware.FirmwareError, match="more than the C3's 4194304-byte flash"):
        qemu_boot.esp32c3_flash(str(fw), str(tmp_path / "flash.bin"))


def test_the_efuses_say_chip_revision_0_3_and_block_2_calibrated():
    efuses = qemu_boot.esp32c3_efuses()
    assert len(efuses) == 1024
    # block 1 word 3 (file offset 0x24): WAFER_VERSION_MINOR_LO, bits 18-20, is 3
    word = int.from_bytes(efuses[0x24:0x28], "little")
    assert (word >> 18) & 7 == 3
    # block 2 word 4 (file offset 0x40): BLK_VERSION_MAJOR, bits 0-1, is 1 ("with calibration")
    assert int.from_bytes(efuses[0x40:0x44], "little") & 3 == 1
    assert sum(1 for b in efuses if b) == 2  # nothing else is burnt


def test_the_command_boots_the_flash_with_its_efuses_and_uart0_on_the_serial(monkeypatch):
    monkeypatch.setattr(qemu_boot, "esp32c3_qemu", lambda: "/q/qemu-system-riscv32")
    cmd = qemu_boot.qemu_command("/b/qemu-flash-1.bin", machine="esp32c3")
    assert cmd[:3] == ["/q/qemu-system-riscv32", "-machine", "esp32c3"]
    assert cmd[cmd.index("-serial") + 1] == "pty"
    drives = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-drive"]
    assert drives == ["file=/b/qemu-flash-1.bin,if=mtd,format=raw",
                      "file=/b/qemu-flash-1-efuse.bin,if=none,format=raw,id=efuse"]
    assert "driver=nvram.esp32c3.efuse,property=drive,value=efuse" in cmd
    assert "-icount" not in cmd
    timed = qemu_boot.qemu_command("/b/f.bin", machine="esp32c3", icount=True)
    assert timed[-2:] == ["-icount", "shift=3"]  # 125 MIPS: shift=0 never booted


def test_the_c3s_uart1_is_looped_onto_itself_through_the_hosts_echo(monkeypatch):
    monkeypatch.setattr(qemu_boot, "esp32c3_qemu", lambda: "/q/qemu-system-riscv32")
    cmd = qemu_boot.qemu_command("/b/f.bin", machine="esp32c3", cable=(5124,))
    serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    # UART0 (the REPL), then UART1 a client of the echo: udp drops the fork's TX bytes
    assert serials == ["pty", "tcp:127.0.0.1:5124"]
    echo = qemu_boot.UartEcho()
    try:
        import socket

        with socket.create_connection(("127.0.0.1", echo.port), timeout=10) as c:
            c.sendall(b"GET 0\n")
            got = b""
            while len(got) < 6:
                got += c.recv(16)
            assert got == b"GET 0\n"
            c.sendall(b"\x55")
            assert c.recv(16) == b"\x55"
        from support import wait_until

        wait_until(lambda: echo.echoed == 7, "the echo to count 7 bytes")
    finally:
        echo.close()
    assert echo.closed and not echo._thread.is_alive()


def test_without_the_fork_the_emulator_says_where_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ESP32_QEMU", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(firmware.FirmwareError) as e:
        qemu_boot.esp32c3_qemu()
    assert str(e.value).startswith("no qemu-system-riscv32 with the esp32c3 machine")
    assert "idf_tools.py install qemu-riscv32" in str(e.value)
    assert "ESP32_QEMU" in str(e.value)


def test_only_the_c3_and_the_classic_esp32_have_an_emulator(monkeypatch):
    monkeypatch.setenv("CHIP", "s3")
    with pytest.raises(emulate.Unavailable, match=r"CHIP=s3: only the ESP32-C3 \(CHIP=c3\) "
                       r"and the classic ESP32 \(CHIP=esp32\)"):
        emulate.firmware_image("esp32", "")


def test_the_classic_esp32s_flash_holds_the_firmware_from_0x1000(tmp_path):
    fw = tmp_path / "firmware.bin"
    fw.write_bytes(b"\xe9" + bytes(range(256)) * 4)
    flash = qemu_boot.esp32_flash(str(fw), str(tmp_path / "flash.bin"))
    data = open(flash, "rb").read()
    assert len(data) == 4 * 1024 * 1024
    assert data[:0x1000] == b"\xff" * 0x1000
    assert data[0x1000:0x1000 + 1025] == fw.read_bytes()
    assert data[0x1000 + 1025:] == b"\xff" * (len(data) - 0x1000 - 1025)
    assert open(str(tmp_path / "flash-efuse.bin"), "rb").read() == qemu_boot.esp32_efuses()
    fw.write_bytes(b"\0" * (4 * 1024 * 1024 - 0x1000 + 1))
    with pytest.raises(firmware.FirmwareError, match="more than the ESP32's 4194304-byte flash"):
        qemu_boot.esp32_flash(str(fw), str(tmp_path / "flash.bin"))


def test_the_classic_esp32s_efuses_say_chip_revision_3_as_idf_py_qemu_writes_them():
    efuses = qemu_boot.esp32_efuses()
    assert len(efuses) == 124  # blocks 0-3
    assert int.from_bytes(efuses[0x0c:0x10], "little") == 1 << 15  # BLK0 word 3: CHIP_VER_REV1
    assert int.from_bytes(efuses[0x14:0x18], "little") == 1 << 20  # BLK0 word 5: CHIP_VER_REV2
    assert sum(1 for b in efuses if b) == 2


def test_the_classic_esp32_boots_from_flash_in_the_forks_xtensa_qemu(monkeypatch):
    monkeypatch.setattr(qemu_boot, "esp32_qemu", lambda: "/q/qemu-system-xtensa")
    cmd = qemu_boot.qemu_command("/b/qemu-flash-1.bin", machine="esp32")
    assert cmd[:3] == ["/q/qemu-system-xtensa", "-machine", "esp32"]
    assert cmd[cmd.index("-serial") + 1] == "pty"
    drives = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-drive"]
    assert drives == ["file=/b/qemu-flash-1.bin,if=mtd,format=raw",
                      "file=/b/qemu-flash-1-efuse.bin,if=none,format=raw,id=efuse"]
    assert "driver=nvram.esp32.efuse,property=drive,value=efuse" in cmd
    assert not [a for a in cmd if "strap_mode" in a]  # the default straps boot from flash
    assert "-icount" not in cmd
    assert qemu_boot.qemu_command("/b/f.bin", machine="esp32", icount=True)[-1] == "shift=3"


def test_the_classic_esp32s_uart1_and_uart2_are_joined_by_a_tcp_cable(monkeypatch):
    monkeypatch.setattr(qemu_boot, "esp32_qemu", lambda: "/q/qemu-system-xtensa")
    cmd = qemu_boot.qemu_command("/b/f.bin", machine="esp32", cable=(5123,))
    serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    # UART0 (the REPL), then UART1 a server, UART2 its client: udp drops the fork's TX bytes
    assert serials == ["pty", "tcp:127.0.0.1:5123,server=on,wait=off", "tcp:127.0.0.1:5123"]
    assert [a for a in qemu_boot.qemu_command("/b/f.bin", machine="esp32")
            if a == "-serial"] == ["-serial"]
    port = qemu_boot.free_tcp_port()
    assert 0 < port < 65536


class _FakePort:
    """A pty that shows the banner's prompt after ``after`` reads, recording the writes."""

    def __init__(self, after, log):
        self.after, self.log = after, log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, data):
        self.log.append(("write", data))

    def read(self, n):
        self.after -= 1
        self.log.append(("read",))
        return b"MicroPython v1.28.0\r\n>>> " if self.after <= 0 else b""


class _FakeEmu:
    path = "/dev/pts/fake"

    def alive(self):
        return True


def test_the_probe_holds_its_input_while_the_classic_esp32_boots(monkeypatch):
    import serial

    log = []
    monkeypatch.setattr(serial, "Serial", lambda *a, **k: _FakePort(3, log))
    emulate.wait_for_prompt(_FakeEmu(), timeout=30, quiet=20)
    assert log == [("read",)] * 3  # the banner's own prompt came: nothing was sent
    log.clear()
    monkeypatch.setattr(serial, "Serial", lambda *a, **k: _FakePort(2, log))
    emulate.wait_for_prompt(_FakeEmu(), timeout=30)
    assert log == [("write", b"\r\n"), ("read",)] * 2  # the C3's probe: a line every read
    assert emulate.ESP32_QUIET_S >= 30  # the ESP32's banner took 12-17 s here


def test_without_the_xtensa_fork_the_emulator_says_where_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ESP32_XTENSA_QEMU", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(firmware.FirmwareError) as e:
        qemu_boot.esp32_qemu()
    assert str(e.value).startswith("no qemu-system-xtensa with the esp32 machine")
    assert "idf_tools.py install qemu-xtensa" in str(e.value)


def _xtensa_qemu_or_none():
    try:
        return qemu_boot.esp32_qemu()
    except firmware.FirmwareError:
        return None


LX6_IMAGE = os.path.join(ROOT, "build", "firmware", "esp32-esp32", "firmware.bin")
CHIPS = [
    pytest.param("c3", marks=pytest.mark.skipif(
        _qemu_or_none() is None or not os.path.exists(C3_IMAGE),
        reason="needs ESP32_QEMU (Espressif's qemu-system-riscv32 with the esp32c3 machine) "
        "and build/firmware/esp32-c3/firmware.bin (make firmware BOARD=esp32 CHIP=c3): "
        "docs/boards.md")),
    pytest.param("esp32", marks=pytest.mark.skipif(
        _xtensa_qemu_or_none() is None or not os.path.exists(LX6_IMAGE),
        reason="needs ESP32_XTENSA_QEMU (Espressif's qemu-system-xtensa with the esp32 "
        "machine) and build/firmware/esp32-esp32/firmware.bin (make firmware BOARD=esp32 "
        "CHIP=esp32): docs/boards.md")),
]


@pytest.mark.parametrize("chip", CHIPS)
def test_the_firmware_boots_in_qemu_and_runs_the_readme_example(chip, monkeypatch):
    monkeypatch.setenv("CHIP", chip)
    with emulate.emulated("esp32") as emu:
        info = device.board_info(emu.path)
        assert info["platform"] == "esp32"
        out = device.mpremote(emu.path, "exec", (
            "from shimeji import StaticScheduler, yield_now, current_task\n"
            "async def blink(n):\n"
            "    for i in range(n):\n"
            "        print(current_task().name, i)\n"
            "        await yield_now()\n"
            "    return 'done'\n"
            "s = StaticScheduler(capacity=4)\n"
            "h = s.spawn(blink(3), 'led')\n"
            "print(s.tick(1))\n"
            "print(s.tick())\n"
            "print(h.result(), s.tasks())\n"), timeout=60)
        assert out.strip().splitlines() == [
            "led 0",
            "Tick(polled=1, completed=0, spawned=1, woken=0+0, has_remaining=True)",
            "led 1",
            "led 2",
            "Tick(polled=3, completed=1, spawned=0, woken=0+0, has_remaining=False)",
            "done []",
        ]
        flash = emu._flash_path()
        assert os.path.exists(flash)
    assert not os.path.exists(flash)  # each emulator's flash copy goes with it


MICROPY_DIR = os.environ.get("MICROPY_DIR", "")


def test_word_align_native_names_the_patch_of_its_architecture():
    import native_align

    assert native_align.patch_for(True) == native_align.PATCH
    assert native_align.patch_for("rv32imc").endswith(
        os.path.join("boards", "esp32", "mpy-tool-rv32imc-align.patch"))
    with pytest.raises(SystemExit, match="word_align_native='x86': one of True, 'armv6m'"):
        native_align.patch_for("x86")


@pytest.mark.skipif(not MICROPY_DIR, reason="needs MICROPY_DIR (its tools/mpy-tool.py and "
                    "mpy-cross) to freeze RV32IMC native code")
def test_frozen_rv32imc_native_code_is_word_aligned_and_whole_words(tmp_path):
    import re
    import subprocess
    import sys

    import mpy_compile
    import native_align

    tool = native_align.patched_copy(os.path.join(MICROPY_DIR, "tools", "mpy-tool.py"),
                                     str(tmp_path / "out"), native_align.patch_for("rv32imc"))
    src = tmp_path / "m.py"
    src.write_text("import micropython\n\n@micropython.native\ndef f(a, b):\n"
                   "    return a + b * 3\n\n@micropython.native\ndef g(x):\n"
                   "    return [x, x + 1]\n")
    subprocess.run([mpy_compile.find_mpy_cross(), "-march=rv32imc", "-o", "m.mpy", "m.py"],
                   check=True, cwd=str(tmp_path))
    out = subprocess.run([sys.executable, tool, "-f", str(tmp_path / "m.mpy")],
                         capture_output=True, text=True, cwd=str(tmp_path), check=True)
    arrays = re.findall(r"static const byte fun_data_m_(\w+)\[(\d+)\] (.*) = \{", out.stdout)
    assert sorted(a[0] for a in arrays) == ["f", "g"]
    for _name, size, attributes in arrays:
        assert int(size) % 4 == 0
        assert "aligned (4)" in attributes and "aligned (2)" not in attributes
