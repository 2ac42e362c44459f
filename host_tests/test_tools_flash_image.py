# shimeji: cpython-only (runs mpy-cross and littlefs-python on the host)
# tools/flash_image.py: the .mpy files `make deploy` copies to an RP2040's /lib, as a littlefs2
# image laid out as our board (boards/rp2040/pico) formats its flash, for the emulator to load;
# and the rp2040 build's flash room (tools/rp2040_build.py).
import os
import re
import shutil
import subprocess
import time

import emulate
import flash_image
import fwtest
import littlefs
import pytest
import rp2040_build

import firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_image_holds_every_deployed_module_byte_for_byte(tmp_path):
    files = flash_image.lib_files("armv6m", out_dir=str(tmp_path / "deploy"))
    where = [w for w, _ in files]
    assert "/lib/shimeji/__init__.mpy" in where and "/lib/shimeji_board.mpy" in where
    assert "/lib/shimeji/executor/worker.mpy" in where
    sources = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "firmware",
                                                                       "shimeji"))
               for f in fs if f.endswith(".py")]
    assert len(files) == len(sources) + 1
    image = str(tmp_path / "lib.img")
    assert flash_image.write_image(files, image) == flash_image.FS_BYTES
    fs = littlefs.LittleFS(block_size=4096, block_count=320, prog_size=256, read_size=32,
                           mount=False)
    with open(image, "rb") as f:
        fs.context.buffer = bytearray(f.read())
    fs.mount()
    for path, local in files:
        with fs.open(path, "rb") as got, open(local, "rb") as want:
            assert got.read() == want.read(), path
    assert flash_image.env_value(image) == "%s@%d" % (image, 0xC0000)


def test_the_layout_is_our_boards_and_micropythons_boot_mounts_it():
    with open(os.path.join(ROOT, "boards", "rp2040", "pico", "mpconfigboard.h")) as f:
        kb = int(re.search(r"MICROPY_HW_FLASH_STORAGE_BYTES\s+\((\d+) \* 1024\)", f.read())[1])
    assert kb == 1280 and flash_image.FS_BYTES == kb * 1024
    assert flash_image.FS_OFFSET == 0xC0000 == 2048 * 1024 - kb * 1024
    tree = os.environ.get("MICROPY_DIR", "")
    if not tree or not os.path.isdir(os.path.join(tree, "ports", "rp2")):
        pytest.skip("needs MICROPY_DIR (a MicroPython v1.28.0 tree) to compare with")
    with open(os.path.join(tree, "ports", "rp2", "modules", "_boot.py")) as f:
        boot = f.read()
    assert "VfsLfs2(bdev, progsize=%d)" % flash_image.PROG in boot
    # MicroPython's own Pico keeps 128 KB more for its filesystem, from 0xa0000
    assert rp2040_build.fs_offset(tree, "RPI_PICO") == 0xA0000
    assert rp2040_build.fs_offset(tree) == 0xC0000


def test_mpy_runs_say_where_shimeji_must_come_from(monkeypatch, tmp_path):
    import emulate

    with pytest.raises(emulate.Unavailable) as e:
        fwtest.mpy_image("qemu")
    assert "BOARD=rp2040" in str(e.value)
    seen = []

    class Done:
        stdout, stderr, returncode = "PASS test_a\nMODULE-DONE\n", "", 0

    def run(cmd, **kw):
        seen.append(cmd[-1])
        return Done

    monkeypatch.setattr(fwtest.subprocess, "run", run)
    path = tmp_path / "test_fake_lib.py"
    path.write_text("def test_a():\n    pass\n")
    assert fwtest.run_module("/dev/null", str(path), from_lib=True)[0] == [
        ("PASS", "test_fake_lib::test_a", "")]
    assert fwtest.run_module("/dev/null", str(path))[0] == [("PASS", "test_fake_lib::test_a", "")]
    assert "shimeji.__file__.startswith('/lib/shimeji/')" in seen[0]
    assert seen[0].index("'/lib'") < seen[0].index("__import__")
    assert "/lib" not in seen[1]


def _uf2(path, end):
    """A UF2 file whose 256-byte blocks write flash from its start up to offset ``end``."""
    import struct

    with open(path, "wb") as f:
        for at in range(0, end, 256):
            head = struct.pack("<IIIIIIII", 0x0A324655, 0x9E5D5157, 0x2000, 0x10000000 + at,
                               256, at // 256, end // 256, 0xE48BFF56)
            f.write(head + bytes(476) + struct.pack("<I", 0x0AB16F30))


def test_a_firmware_reaching_into_the_filesystem_fails_the_build_and_is_not_given_a_lib(
        monkeypatch, tmp_path):
    fits, over = str(tmp_path / "fits.uf2"), str(tmp_path / "over.uf2")
    _uf2(fits, flash_image.FS_OFFSET - 4096)
    _uf2(over, flash_image.FS_OFFSET + 6400)
    assert flash_image.uf2_flash_end(fits) == flash_image.FS_OFFSET - 4096
    assert flash_image.overlap(fits) == -4096 and flash_image.overlap(over) == 6400
    assert flash_image.overlap(fits, 0xA0000) == 0xC0000 - 4096 - 0xA0000
    lines = []
    monkeypatch.setattr(firmware, "build_dir", lambda board, *a, **k: str(tmp_path))
    os.rename(over, str(tmp_path / "firmware.uf2"))
    with pytest.raises(firmware.FirmwareError, match="6400 B past 0xc0000, inside the board's"):
        rp2040_build.check_flash_room(str(tmp_path), flash_image.FS_OFFSET, lines.append)
    with pytest.raises(emulate.Unavailable) as e:
        fwtest.mpy_image("rp2040")
    assert "6400 B past 0xc0000" in str(e.value)
    os.rename(fits, str(tmp_path / "firmware.uf2"))
    rp2040_build.check_flash_room(str(tmp_path), flash_image.FS_OFFSET, lines.append)
    assert lines == ["flash: the firmware ends at 0xbf000, 4096 B (4.0 KB) before the "
                     "filesystem at 0xc0000"]
    rp2040_build.check_flash_room(str(tmp_path), None, lines.append)
    assert lines[1].startswith("not checked: where this board's filesystem begins")


def test_a_firmware_of_another_board_is_not_given_our_boards_lib(monkeypatch, tmp_path):
    (tmp_path / "CMakeCache.txt").write_text(
        "MICROPY_BOARD:STRING=RPI_PICO\nMICROPY_BOARD_DIR:PATH=/mp/ports/rp2/boards/RPI_PICO\n")
    monkeypatch.setattr(firmware, "build_dir", lambda board, *a, **k: str(tmp_path))
    with pytest.raises(emulate.Unavailable, match="built for /mp/ports/rp2/boards/RPI_PICO"):
        fwtest.mpy_image("rp2040")


def test_make_firmware_builds_our_board_and_reconfigures_a_tree_made_for_another(tmp_path):
    mp = str(tmp_path / "mp")
    cmd = firmware.make_args(mp, "rp2040")
    assert "BOARD_DIR=" + os.path.join(ROOT, "boards", "rp2040", "pico") in cmd
    assert not [a for a in cmd if a.startswith("BOARD=")]
    assert "BOARD=RPI_PICO_W" in firmware.make_args(mp, "rp2040", "RPI_PICO_W")
    build = tmp_path / "build"
    build.mkdir()
    said = []
    assert not rp2040_build.reconfigure_on_new_board(str(build), mp, None, said.append)
    (build / "CMakeCache.txt").write_text(
        "MICROPY_BOARD_DIR:PATH=%s/ports/rp2/boards/RPI_PICO\n" % mp)
    assert not rp2040_build.reconfigure_on_new_board(str(build), mp, "RPI_PICO", said.append)
    assert rp2040_build.reconfigure_on_new_board(str(build), mp, None, said.append)
    assert not build.exists() and "configured for %s/ports/rp2/boards/RPI_PICO" % mp in said[0]
    build.mkdir()
    for name in ("firmware.elf", "firmware.uf2", "frozen_content.c"):
        (build / name).write_text("")
    rp2040_build.remove_images(str(build))
    assert sorted(os.listdir(str(build))) == ["frozen_content.c"]


def test_another_boards_filesystem_is_read_from_its_headers_or_not_checked(tmp_path):
    boards = tmp_path / "ports" / "rp2" / "boards"
    sdk = tmp_path / "lib" / "pico-sdk" / "src" / "boards" / "include" / "boards"
    sdk.mkdir(parents=True)
    (sdk / "pico.h").write_text("pico_board_cmake_set_default(PICO_FLASH_SIZE_BYTES, "
                                "(2 * 1024 * 1024))\n")
    (sdk / "big.h").write_text("#define PICO_FLASH_SIZE_BYTES (8 * 1024 * 1024)\n")
    for name, pico, storage in (("A", "pico", "(848 * 1024)"),
                                ("B", "big", "(7 * 1024 * 1024)"), ("C", "big", None),
                                ("D", "big", "(PICO_FLASH_SIZE_BYTES - 1024 * 1024)")):
        (boards / name).mkdir(parents=True)
        (boards / name / "mpconfigboard.cmake").write_text('set(PICO_BOARD "%s")\n' % pico)
        (boards / name / "mpconfigboard.h").write_text(
            "#define MICROPY_HW_FLASH_STORAGE_BYTES %s\n" % storage if storage else "\n")
    assert rp2040_build.fs_offset(str(tmp_path), "A") == 2048 * 1024 - 848 * 1024
    assert rp2040_build.fs_offset(str(tmp_path), "B") is None  # not a plain (N * 1024)
    assert rp2040_build.fs_offset(str(tmp_path), "C") == 8192 * 1024 - 1408 * 1024
    assert rp2040_build.fs_offset(str(tmp_path), "D") is None
    assert rp2040_build.fs_offset(str(tmp_path), "E") is None  # no such board


def test_our_boards_link_fails_when_the_firmware_reaches_the_filesystem(tmp_path):
    """mpconfigboard.cmake writes a linker script: the port's, then an ASSERT on its
    __flash_binary_end. Linked here against a stand-in for the port's script whose code ends
    where --defsym puts it: at the filesystem's first byte it links, one byte later it fails."""
    gcc, cmake = shutil.which("arm-none-eabi-gcc"), shutil.which("cmake")
    if not gcc or not cmake:
        pytest.skip("needs arm-none-eabi-gcc and cmake")
    port = tmp_path / "port"
    port.mkdir()
    (port / "memmap_mp_rp2040.ld").write_text(
        "MEMORY { FLASH(rx) : ORIGIN = 0x10000000, LENGTH = 2048k }\n"
        "SECTIONS { .text : { *(.text*) . = CODE_END; } > FLASH\n"
        "  .flash_end : { __flash_binary_end = .; } > FLASH }\n")
    subprocess.run([cmake, "-DMICROPY_PORT_DIR=" + str(port), "-P",
                    os.path.join(ROOT, "boards", "rp2040", "pico", "mpconfigboard.cmake")],
                   cwd=str(tmp_path), check=True, capture_output=True)
    script = (tmp_path / "shimeji_pico_memmap.ld").read_text()
    assert 'INCLUDE "%s/memmap_mp_rp2040.ld"' % port in script and "0xc0000" in script
    (tmp_path / "a.s").write_text(".text\n.globl _start\n_start: nop\n")

    def link(end):
        return subprocess.run([gcc, "-nostdlib", "-mcpu=cortex-m0plus", "-mthumb",
                               "-Wl,--defsym=CODE_END=0x%x" % end, "-T",
                               str(tmp_path / "shimeji_pico_memmap.ld"), str(tmp_path / "a.s"),
                               "-o", str(tmp_path / "a.elf")], capture_output=True, text=True)

    assert link(0xC0000).returncode == 0
    failed = link(0xC0001)
    assert failed.returncode != 0 and "runs past 0xc0000, into the filesystem" in failed.stderr


def test_an_emulator_that_never_brings_up_usb_is_given_up_at_its_deadline(monkeypatch,
                                                                            tmp_path):
    """The .mpy path's image over a firmware's tail left rp2040js silent: the start blocked
    in a read for 23 minutes instead of its 120 s."""
    if not shutil.which("node"):
        pytest.skip("needs node")
    silent = tmp_path / "silent.mjs"
    silent.write_text("console.log('loaded');\nsetTimeout(() => {}, 60000);\n")
    monkeypatch.setattr(emulate, "EMU_SCRIPT", str(silent))
    monkeypatch.setattr(emulate, "rp2040js_dir", lambda: str(tmp_path))
    emu = emulate.Rp2040Emulator(str(tmp_path / "firmware.uf2"), timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(emulate.Unavailable, match="did not bring up USB-CDC: loaded"):
        emu.start()
    assert time.monotonic() - t0 < 10
    assert emu.proc.poll() is not None
