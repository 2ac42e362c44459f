# shimeji: cpython-only (the esp32 firmware build's command line and set-up checks, a host tool)
import os
import re
import subprocess
import sys

import esp32_build
import pytest

import firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C3 = os.path.join(ROOT, "boards", "esp32", "c3")
LX6 = os.path.join(ROOT, "boards", "esp32", "esp32")


def test_chip_c3_builds_our_board_directory_in_its_own_build_directory():
    cmd = firmware.make_args("/mp", "esp32", chip="c3")
    assert cmd[:4] == ["make", "-C", os.path.join("/mp", "ports", "esp32"), "-j2"]
    assert "BOARD_DIR=" + C3 in cmd
    assert "BUILD=" + os.path.join(ROOT, "build", "firmware", "esp32-c3") in cmd
    assert "FROZEN_MANIFEST=" + os.path.join(ROOT, "boards", "esp32", "manifest.py") in cmd
    assert not [a for a in cmd if a.startswith("BOARD=")]
    plain = firmware.make_args("/mp", "esp32")
    assert "BOARD=ESP32_GENERIC" in plain and not [a for a in plain if "BOARD_DIR" in a]


def test_chip_esp32_builds_the_classic_esp32_board_in_its_own_build_directory():
    cmd = firmware.make_args("/mp", "esp32", chip="esp32")
    assert "BOARD_DIR=" + LX6 in cmd
    assert "BUILD=" + os.path.join(ROOT, "build", "firmware", "esp32-esp32") in cmd
    assert "FROZEN_MANIFEST=" + os.path.join(ROOT, "boards", "esp32", "manifest.py") in cmd
    assert not [a for a in cmd if a.startswith("BOARD=")]


def test_a_chip_is_for_esp32_only_and_c3_or_esp32_only():
    with pytest.raises(firmware.FirmwareError, match=r"only CHIP=c3\|esp32, for BOARD=esp32"):
        firmware.build("/mp", "stm32", chip="c3")
    with pytest.raises(firmware.FirmwareError, match="CHIP=s3"):
        firmware.build("/mp", "esp32", chip="s3")


def test_without_esp_idf_the_build_says_what_to_set_up():
    with pytest.raises(firmware.FirmwareError) as e:
        esp32_build.check_esp_idf({"PATH": "/nowhere"}, which=lambda name, path=None: None)
    msg = str(e.value)
    assert msg.startswith("IDF_PATH and idf.py not found: the esp32 build needs Espressif's "
                          "ESP-IDF v5.5.x set up in this shell")
    assert "Install it once the official way" in msg
    assert "\n    ~/esp-idf/install.sh esp32c3 " in msg
    assert "\n    . ~/esp-idf/export.sh\n" in msg
    assert "_setup.sh" not in msg and "env.sh" not in msg
    with pytest.raises(firmware.FirmwareError, match="^idf.py not found"):
        esp32_build.check_esp_idf({"IDF_PATH": "/idf"}, which=lambda name, path=None: None)
    esp32_build.check_esp_idf({"IDF_PATH": "/idf"}, which=lambda name, path=None: "/bin/idf.py")


def test_make_firmware_without_esp_idf_stops_before_the_port_build(tmp_path):
    mp = tmp_path / "mp"
    (mp / "py").mkdir(parents=True)
    (mp / "py" / "mpconfig.h").write_text("")
    (mp / "ports" / "esp32").mkdir(parents=True)
    (mp / "lib" / "micropython-lib").mkdir(parents=True)
    (mp / "lib" / "micropython-lib" / "README.md").write_text("")
    (mp / "mpy-cross" / "build").mkdir(parents=True)
    (mp / "mpy-cross" / "build" / "mpy-cross").write_text("")
    env = {k: v for k, v in os.environ.items() if k != "IDF_PATH"}
    env["PATH"] = str(tmp_path)  # no idf.py there
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "firmware.py"), "esp32",
                        "--chip", "c3", "--micropy-dir", str(mp)],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("error: IDF_PATH and idf.py not found")
    assert "make -C" not in r.stdout


@pytest.mark.parametrize("board", [C3, LX6])
def test_the_boards_leave_out_the_radio_whose_blobs_were_unreachable(board):
    header = open(os.path.join(board, "mpconfigboard.h")).read()
    for off in ("MICROPY_PY_NETWORK_WLAN", "MICROPY_PY_ESPNOW", "MICROPY_PY_BLUETOOTH",
                "MICROPY_HW_ENABLE_MDNS_QUERIES", "MICROPY_HW_ENABLE_MDNS_RESPONDER"):
        assert re.search(r"#define %s +\(0\)\n" % off, header), off


def test_the_classic_esp32_board_is_esp32_with_the_c3s_radio_less_settings():
    cmake = open(os.path.join(LX6, "mpconfigboard.cmake")).read()
    assert "set(IDF_TARGET esp32)" in cmake
    assert "${CMAKE_CURRENT_LIST_DIR}/../c3/sdkconfig.board" in cmake
    assert "${CMAKE_CURRENT_LIST_DIR}/../c3/mdns_header.cmake" in cmake
    assert "sdkconfig.ble" not in cmake and "sdkconfig.riscv" not in cmake


def test_the_c3_board_is_the_c3_without_blobs():
    sdk = open(os.path.join(C3, "sdkconfig.board")).read().split()
    assert "CONFIG_APP_NO_BLOBS=y" in sdk and "CONFIG_BT_ENABLED=n" in sdk
    assert "CONFIG_MBEDTLS_HARDWARE_AES=n" in sdk
    cmake = open(os.path.join(C3, "mpconfigboard.cmake")).read()
    assert "set(IDF_TARGET esp32c3)" in cmake
    assert "${CMAKE_CURRENT_LIST_DIR}/sdkconfig.board" in cmake
    # mdns.h comes from ESP-IDF's component manager unless SHIMEJI_ESP_EXTRAS names one
    assert "if(DEFINED ENV{SHIMEJI_ESP_EXTRAS})" in cmake


def test_esp32_freezes_with_the_trees_mpy_cross_not_one_the_port_remakes():
    # the port's CMake would otherwise run make in mpy-cross/, which inherits our BUILD=
    # (make passes command-line variables on) and writes mpy-cross's headers into genhdr/
    env = firmware.build_env("esp32", {"PATH": "/bin"}, micropy_dir="/mp")
    assert env["MICROPY_MPYCROSS"] == os.path.join("/mp", "mpy-cross", "build", "mpy-cross")
    mine = firmware.build_env("esp32", {"MICROPY_MPYCROSS": "/x"}, micropy_dir="/mp")
    assert mine["MICROPY_MPYCROSS"] == "/x"
    assert "MICROPY_MPYCROSS" not in firmware.build_env("stm32", {}, micropy_dir="/mp")


def test_a_changed_sdkconfig_default_makes_the_build_write_sdkconfig_again(monkeypatch, tmp_path):
    board = tmp_path / "board"
    board.mkdir()
    with open(os.path.join(LX6, "mpconfigboard.cmake")) as f:  # our list, another directory
        (board / "mpconfigboard.cmake").write_text(f.read())
    (board / "sdkconfig.board").write_text("CONFIG_ESP_INT_WDT=n\n")
    mp = tmp_path / "mp"
    (mp / "ports" / "esp32" / "boards").mkdir(parents=True)
    (mp / "ports" / "esp32" / "boards" / "sdkconfig.base").write_text("CONFIG_A=y\n")
    build = tmp_path / "build"
    monkeypatch.setattr(esp32_build, "esp32_board_dir", lambda chip: str(board))
    monkeypatch.setattr(esp32_build, "esp32_build_dir", lambda chip: str(build))
    paths = esp32_build.sdkconfig_defaults(str(mp), "esp32")
    assert paths == [str(board / "mpconfigboard.cmake"),
                     str(mp / "ports" / "esp32" / "boards" / "sdkconfig.base"),
                     os.path.normpath(str(board / ".." / "c3" / "sdkconfig.board")),
                     str(board / "sdkconfig.board")]
    said = []
    assert not esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)  # none yet
    assert said == [] and (build / esp32_build.SDKCONFIG_STAMP).exists()
    (build / "sdkconfig").write_text("# made by ESP-IDF\n")
    assert not esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)  # nothing changed
    assert (build / "sdkconfig").exists() and said == []
    (board / "sdkconfig.board").write_text("CONFIG_ESP_INT_WDT=y\n")  # a default changed
    assert esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)
    assert not (build / "sdkconfig").exists() and "changed since" in said[0]
    (build / "sdkconfig").write_text("# made again\n")
    assert not esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)  # recorded: kept
    (mp / "ports" / "esp32" / "boards" / "sdkconfig.base").write_text("CONFIG_A=n\n")
    assert esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)  # the port's, too
    (build / "sdkconfig").write_text("# an older build's, with no record\n")
    os.remove(build / esp32_build.SDKCONFIG_STAMP)
    assert esp32_build.refresh_sdkconfig(str(mp), "esp32", said.append)
    assert "not recorded" in said[-1] and len(said) == 3


def test_the_real_boards_name_their_sdkconfig_defaults():
    for chip in esp32_build.ESP32_CHIPS:
        paths = esp32_build.sdkconfig_defaults("/mp", chip)
        assert paths[0].endswith("mpconfigboard.cmake") and len(paths) >= 3
        assert os.path.join("/mp", "ports", "esp32", "boards", "sdkconfig.base") in paths
        assert os.path.join(ROOT, "boards", "esp32", chip, "sdkconfig.board") in paths
