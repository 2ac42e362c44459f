# shimeji: cpython-only (runs mpy-cross and littlefs-python on the host)
# tools/flash_image.py: the .mpy files `make deploy` copies to an RP2040's /lib, as a littlefs2
# image laid out as MicroPython's RPI_PICO formats its flash, for the emulator to load.
import os
import re

import flash_image
import fwtest
import littlefs
import pytest

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
