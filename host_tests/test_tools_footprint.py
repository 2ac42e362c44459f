# shimeji: cpython-only (reads firmware build outputs with nm; runs the tools' skip paths)
# make footprint: flash per subpackage from the frozen symbols of a built firmware, the qstr
# pool apart; without a firmware it says so. make bench BOARD=...: the firmware bench table.
import os

import emulate
import footprint
import fwbench

FROZEN_C = """MICROPY_FROZEN_LIST_ITEM("asyncio/core", "asyncio/core.py")
MICROPY_FROZEN_LIST_ITEM("shimeji", "shimeji/__init__.py")
MICROPY_FROZEN_LIST_ITEM("shimeji/core", "shimeji/core.py")
MICROPY_FROZEN_LIST_ITEM("shimeji/sync", "shimeji/sync/__init__.py")
MICROPY_FROZEN_LIST_ITEM("shimeji/sync/mutex", "shimeji/sync/mutex.py")
/*
qstr content: 879 unique, 11845 bytes
*/
"""


def test_modules_are_read_from_frozen_content_and_grouped_by_subpackage(tmp_path):
    path = tmp_path / "frozen_content.c"
    path.write_text(FROZEN_C)
    mods, pool = footprint.frozen_modules(str(path))
    assert mods == {"shimeji___init__": "shimeji", "shimeji_core": "shimeji.core",
                    "shimeji_sync___init__": "shimeji.sync",
                    "shimeji_sync_mutex": "shimeji.sync.mutex"}
    assert pool == (879, 11845)
    grouped = footprint.group({"shimeji": 10, "shimeji.core": 100, "shimeji.sync": 5,
                               "shimeji.sync.mutex": 50})
    assert grouped["shimeji"] == 110 and grouped["shimeji.sync"] == 55
    assert set(grouped) == set(footprint.subpackages())


def test_every_subpackage_lists_its_public_names():
    names = footprint.public_names("shimeji.sync")
    assert "Mutex" in names and "Channel" in names
    assert "StaticScheduler" in footprint.public_names("shimeji")


def test_without_firmware_footprint_and_bench_say_why(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(footprint.firmware, "build_dir", lambda b, emulated=False, tests=False: (
        str(tmp_path)))
    assert footprint.main(["rp2040"]) == 0
    assert "skipped: no rp2040 firmware built" in capsys.readouterr().out
    monkeypatch.setattr(emulate.firmware, "build_dir", lambda b, emulated=False, tests=False: (
        str(tmp_path)))
    monkeypatch.setenv("MICROPY_DIR", "")
    assert fwbench.main(["qemu"]) == 0
    assert "skipped: no qemu firmware" in capsys.readouterr().out


def test_bench_table_prints_ratios_and_the_spawn_goal():
    lines = []
    fwbench.table("qemu", [
        {"workload": "spawn", "metric": "ns per task, spawn+run+complete", "shimeji": 1000,
         "ref": 2500, "ref_name": "asyncio"},
        {"workload": "spawn", "metric": "ns per task vs the floor", "shimeji": 1000,
         "ref": 100, "ref_name": "floor"},
        {"workload": "switch", "metric": "FAILED: timed out"},
        {"workload": "spawn_batches", "metric": "join_all vs gather, batch 52, collections "
         "at their rate", "shimeji": 1270, "ref": 2102, "ref_name": "asyncio"}],
        out=lines.append)
    assert any(line.startswith("spawn") and line.endswith("2.50") for line in lines)
    assert lines[-2:] == [
        "goal: spawn >= 2x asyncio's on 32-bit (ns per task, spawn+run+complete): 2.50x, met",
        "goal: spawn >= 2x asyncio's on 32-bit (join_all vs gather, batch 52, collections at "
        "their rate): 1.66x, not met"]
    assert os.path.isdir(fwbench.BENCH)


def test_modules_of_a_subpackage_and_their_flash(monkeypatch):
    mods = footprint.modules_of("shimeji.asyncio")
    assert mods[0] == "shimeji.asyncio" and "shimeji.asyncio.futures" in mods
    assert all(m.startswith("shimeji.asyncio") for m in mods) and len(mods) == len(set(mods))
    monkeypatch.setattr(footprint, "flash_by_module", lambda board, emulated=False: (
        {"shimeji.asyncio": 800, "shimeji.asyncio.futures": 2000}, (10, 100)))
    lines = []
    footprint.print_flash("qemu", out=lines.append, detail="shimeji.asyncio")
    assert "shimeji.asyncio, flash per module:" in lines
    assert any(line.split() == ["shimeji.asyncio.futures", "2000"] for line in lines)
    rows = footprint.ram_rows("shimeji.asyncio")
    assert rows["shimeji.asyncio.futures (import only)"] == ("shimeji.asyncio.futures", [])
    assert "shimeji.sync, every name used" in rows


def test_ram_rows_from_lib_must_come_from_lib(monkeypatch):
    class Proc:
        def __init__(self, stdout):
            self.stdout, self.stderr = stdout, ""

    sent = []

    def run(cmd, **kw):
        sent.append(cmd[-1])
        where = "/lib/shimeji/__init__.mpy" if len(sent) == 1 else "shimeji/__init__.py"
        return Proc("RAM-BYTES 8000 230000 \nFROM %s\n" % where)

    monkeypatch.setattr(footprint, "ram_rows", lambda detail=None: {
        "a": ("shimeji", []), "b": ("shimeji.sync", ["Mutex"])})
    monkeypatch.setattr(footprint.subprocess, "run", run)
    out = footprint.ram_by_subpackage("socket://x", from_lib=True)
    assert out["a"] == (8000, 230000)
    assert out["b (failed: shimeji from shimeji/__init__.py, not /lib)"] == (None, None)
    assert all("sys.path[:] = [''] + ['/lib']" in code for code in sent)
    # collected every 4 KB while loading, as a main.py on the .mpy path does (docs/boards.md)
    assert all("gc.threshold(4096)\nsys.path" in code for code in sent)
    compile(sent[0], "measure", "exec")
    # the frozen copy: no path change, the same figures
    sent.clear()
    out = footprint.ram_by_subpackage("socket://x")
    assert out["b"] == (8000, 230000) and "['/lib']" not in sent[0]
    assert "threshold" not in sent[0]
    # the code it sends is MicroPython that imports the module and reads every name
    assert "import shimeji.sync\nm = sys.modules['shimeji.sync']" in sent[1]
    compile(sent[1], "measure", "exec")


def test_a_name_that_does_not_load_is_shown_with_its_error(monkeypatch):
    class Proc:
        stdout = "RAM-BYTES 9000 2000 Stream:MemoryError,Server:ImportError\nFROM x\n"
        stderr = ""

    sent = []
    monkeypatch.setattr(footprint, "ram_rows", lambda detail=None: {"a": ("shimeji.io", [])})
    monkeypatch.setattr(footprint.subprocess, "run", lambda cmd, **kw: sent.append(cmd) or Proc)
    out = footprint.ram_by_subpackage("socket://x")
    assert out == {"a (not loadable here: Stream:MemoryError, Server:ImportError)": (9000, 2000)}
    # what the board runs names each error's class beside the name
    assert "missing.append('%s:%s' % (n, type(e).__name__))" in sent[0][-1]


def test_the_stm32_build_for_qemu_is_read_with_emulated(monkeypatch, tmp_path, capsys):
    asked = []

    def build_dir(board, emulated=False, tests=False):
        asked.append((board, emulated))
        return str(tmp_path)

    monkeypatch.setattr(footprint.firmware, "build_dir", build_dir)
    monkeypatch.delenv("EMULATED", raising=False)
    assert footprint.main(["stm32", "--emulated"]) == 0
    assert asked == [("stm32", True)]
    assert "make firmware BOARD=stm32 EMULATED=1" in capsys.readouterr().out


def test_make_firmware_with_ram_measures_it_where_the_image_boots(monkeypatch, capsys):
    import firmware

    measured = []
    monkeypatch.setattr(firmware, "build", lambda *a, **k: "build/firmware/x/firmware.elf")
    monkeypatch.setattr(footprint, "print_flash", lambda board, emulated=False: None)
    monkeypatch.setattr(footprint, "print_ram", lambda board: measured.append(board))
    assert firmware.main(["rp2040", "--ram"]) == 0
    assert firmware.main(["stm32", "--emulated", "--ram"]) == 0
    assert measured == ["rp2040", "stm32"]
    capsys.readouterr()
    # a PYBV11 image boots in no emulator: said, not measured on the qemu build instead
    assert firmware.main(["stm32", "--ram"]) == 0
    assert measured == ["rp2040", "stm32"]
    assert "RAM not measured" in capsys.readouterr().out
    # without RAM=1 the build says how to get it
    assert firmware.main(["rp2040"]) == 0
    assert "RAM=1" in capsys.readouterr().out and measured == ["rp2040", "stm32"]
