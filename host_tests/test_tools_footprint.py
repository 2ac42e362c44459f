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
        {"workload": "switch", "metric": "FAILED: timed out"}], out=lines.append)
    assert any(line.startswith("spawn") and line.endswith("2.50") for line in lines)
    assert lines[-1] == ("goal: spawn >= 2x asyncio's on 32-bit (ns per task, "
                         "spawn+run+complete): 2.50x, met")
    assert os.path.isdir(fwbench.BENCH)
