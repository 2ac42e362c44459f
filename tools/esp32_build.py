"""The esp32 parts of ``make firmware``: the boards/esp32/CHIP boards, ESP-IDF's set-up check,
and the build directory's ``sdkconfig`` made again when its defaults change (tools/firmware.py
builds; docs/boards.md, ESP32)."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# esp32 --chip: our board directories for chips that MicroPython's default esp32 board is not
ESP32_CHIPS = ("c3", "esp32")
ESP32_SETUP = (
    "the esp32 build needs Espressif's ESP-IDF v5.5.x set up in this shell (idf.py on PATH, "
    "IDF_PATH set). Install it once the official way (Espressif's Get Started guide: "
    "ESP-IDF v5.5.x in ~/esp-idf), then export it in each shell:\n"
    "    ~/esp-idf/install.sh esp32c3      # once; or esp32, esp32s3...: the chips you build for\n"
    "    . ~/esp-idf/export.sh\n"
    "(docs/boards.md, ESP32, says more)")


def esp32_board_dir(chip):
    return os.path.join(ROOT, "boards", "esp32", chip)


def check_esp_idf(env, which=None):
    """Raise FirmwareError saying how to set ESP-IDF up when it is not in ``env``."""
    import shutil

    import firmware

    which = which or shutil.which
    missing = [name for name, ok in (("IDF_PATH", env.get("IDF_PATH")),
                                     ("idf.py", which("idf.py", path=env.get("PATH"))))
               if not ok]
    if missing:
        raise firmware.FirmwareError("%s not found: %s" % (" and ".join(missing), ESP32_SETUP))


def esp32_build_dir(chip):
    return os.path.join(ROOT, "build", "firmware", "esp32-" + chip)


SDKCONFIG_STAMP = "shimeji-sdkconfig-defaults.txt"
SDKCONFIG_DEFAULTS = re.compile(r"set\(SDKCONFIG_DEFAULTS\s+([^)]*)\)")


def sdkconfig_defaults(micropy_dir, chip):
    """The files ``boards/esp32/CHIP/mpconfigboard.cmake`` lists in ``SDKCONFIG_DEFAULTS``
    (a relative one is the esp32 port's, as ESP-IDF reads it), and that file itself."""
    board = esp32_board_dir(chip)
    cmake = os.path.join(board, "mpconfigboard.cmake")
    with open(cmake) as f:
        m = SDKCONFIG_DEFAULTS.search(f.read())
    paths = [cmake]
    for item in m.group(1).split() if m else ():
        item = item.replace("${CMAKE_CURRENT_LIST_DIR}", board)
        if not os.path.isabs(item):
            item = os.path.join(micropy_dir, "ports", "esp32", item)
        paths.append(os.path.normpath(item))
    return paths


def refresh_sdkconfig(micropy_dir, chip, out=print):
    """Delete ``build/firmware/esp32-CHIP/sdkconfig`` when the defaults it was made from
    changed since (or were not recorded), so that the build makes it again from them; then
    record them. ESP-IDF writes ``sdkconfig`` from ``SDKCONFIG_DEFAULTS`` once and keeps its
    values afterwards: a default changed in boards/esp32 never reached a build directory that
    had one (it had to be deleted by hand). Returns True if it was deleted."""
    import hashlib

    record = []
    for path in sdkconfig_defaults(micropy_dir, chip):
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            digest = "missing"
        record.append("%s %s\n" % (digest, path))
    record = "".join(record)
    build = esp32_build_dir(chip)
    stamp = os.path.join(build, SDKCONFIG_STAMP)
    sdkconfig = os.path.join(build, "sdkconfig")
    old = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            old = f.read()
    removed = False
    if os.path.exists(sdkconfig) and old != record:
        out("%s was made from other sdkconfig defaults (%s): deleted, the build makes it "
            "again" % (sdkconfig, "not recorded" if old is None else "changed since"))
        os.remove(sdkconfig)
        removed = True
    os.makedirs(build, exist_ok=True)
    with open(stamp, "w") as f:
        f.write(record)
    return removed
