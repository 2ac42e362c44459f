# shimeji: cpython-only (runs mpy-cross and littlefs-python on the host)
# tools/flash_image.py: the .mpy files `make deploy` copies to an RP2040's /lib, as a littlefs2
# image laid out as MicroPython's RPI_PICO formats its flash, for the emulator to load.
import os
import re
import shutil
import time

import emulate
import flash_image
import fwtest
import littlefs
import pytest

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
    fs = littlefs.LittleFS(block_size=4096, block_count=352, prog_size=256, read_size=32,
                           mount=False)
    with open(image, "rb") as f:
        fs.context.buffer = bytearray(f.read())
    fs.mount()
    for path, local in files:
        with fs.open(path, "rb") as got, open(local, "rb") as want:
            assert got.read() == want.read(), path
    assert flash_image.env_value(image) == "%s@%d" % (image, 0xA0000)


def test_the_layout_is_the_one_micropythons_rpi_pico_mounts():
    tree = os.environ.get("MICROPY_DIR", "")
    if not tree or not os.path.isdir(os.path.join(tree, "ports", "rp2")):
        pytest.skip("needs MICROPY_DIR (a MicroPython v1.28.0 tree) to compare with")
    with open(os.path.join(tree, "ports", "rp2", "boards", "RPI_PICO", "mpconfigboard.h")) as f:
        kb = int(re.search(r"MICROPY_HW_FLASH_STORAGE_BYTES\s+\((\d+) \* 1024\)", f.read())[1])
    with open(os.path.join(tree, "ports", "rp2", "modules", "_boot.py")) as f:
        boot = f.read()
    assert kb * 1024 == flash_image.FS_BYTES
    assert "VfsLfs2(bdev, progsize=%d)" % flash_image.PROG in boot


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


def test_a_firmware_reaching_into_the_filesystem_is_named_and_not_given_a_lib(
        monkeypatch, tmp_path):
    fits, over = str(tmp_path / "fits.uf2"), str(tmp_path / "over.uf2")
    _uf2(fits, flash_image.FS_OFFSET - 4096)
    _uf2(over, flash_image.FS_OFFSET + 6400)
    assert flash_image.uf2_flash_end(fits) == flash_image.FS_OFFSET - 4096
    assert flash_image.overlap(fits) == -4096 and flash_image.overlap(over) == 6400
    lines = []
    monkeypatch.setattr(firmware, "build_dir", lambda board, *a, **k: str(tmp_path))
    os.rename(over, str(tmp_path / "firmware.uf2"))
    firmware.check_flash_room("rp2040", lines.append)
    assert "6400 B past 0xa0000" in lines[0] and lines[0].startswith("WARNING")
    with pytest.raises(emulate.Unavailable) as e:
        fwtest.mpy_image("rp2040")
    assert "6400 B past 0xa0000" in str(e.value)
    os.rename(fits, str(tmp_path / "firmware.uf2"))
    firmware.check_flash_room("rp2040", lines.append)
    assert lines[1] == "flash: the firmware ends 4096 B before RPI_PICO's filesystem"


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
