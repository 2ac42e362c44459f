"""The firmware image each emulated board boots (tools/emulate.py): the one built before, else
built now from a MicroPython tree; the stm32 test image built again when a file it freezes
changed; the ESP32 chip to emulate. ``Unavailable`` says what is missing."""

import os

import esp32_build
import testimage

import firmware

ROOT = firmware.ROOT


class Unavailable(Exception):
    """The emulator or the firmware image is not there; the message says what to do."""


# What the stm32 test image freezes: a file here newer than the image makes it stale.
TEST_IMAGE_SOURCES = ("host_tests", "firmware/shimeji", "boards/stm32", "tools/fwtest_board.py")


def stale_sources(image):
    """The files the test image freezes that changed after they were frozen into ``image``
    (its frozen_content.c: a file edited while the port compiled is newer than that); a
    CPython-only or host-only test module is never frozen, and its edits count for nothing."""
    content = os.path.join(os.path.dirname(image), "frozen_content.c")
    built = os.path.getmtime(content if os.path.exists(content) else image)
    newer = []
    for rel in TEST_IMAGE_SOURCES:
        top = os.path.join(ROOT, rel)
        paths = [top] if os.path.isfile(top) else [
            os.path.join(d, f) for d, _dirs, files in os.walk(top) for f in files
            if f.endswith(".py")]
        newer += [os.path.relpath(p, ROOT) for p in paths if os.path.getmtime(p) > built
                  and not (rel == "host_tests" and _never_frozen(p))]
    return sorted(newer)


def _never_frozen(path):
    """A CPython-only or host-only test module: no test image freezes it."""
    with open(path) as f:
        return not testimage.on_board(os.path.basename(path), f.read())


def firmware_image(board, micropy_dir, tests=False):
    """The firmware to boot: the one built before, else built now from ``micropy_dir``.
    ``tests`` (stm32): the test image, with the host tests frozen in; built again when a
    file it freezes changed since (with ``micropy_dir``; without, a warning names them).
    ``tests=2``: the second test image (what the first leaves out), built again too when the
    first was built with another budget since (other modules left out)."""
    if board == "esp32":
        return esp32_image(micropy_dir)
    name = {"qemu": "firmware.elf", "rp2040": "firmware.uf2", "stm32": "firmware.elf"}.get(board)
    if name is None:
        raise Unavailable("no emulator for BOARD=%s (qemu, rp2040, stm32 and esp32 (C3, "
                          "ESP32) have one)" % board)
    emulated = board == "stm32"  # the B_L475E_IOT01A build for qemu's b-l475e-iot01a
    tests = tests if emulated else False  # (2: the second test image; not ``and``: True)
    image = os.path.join(firmware.build_dir(board, emulated, tests), name)
    if os.path.exists(image):
        newer = stale_sources(image) if tests else []
        if tests == 2 and testimage.second_is_stale(firmware.build_dir(board, True, True),
                                                    os.path.dirname(image)):
            if not micropy_dir:  # it would lack modules the first leaves out now
                raise Unavailable("the second test image %s was planned from another budget "
                                  "than the first image's; give MICROPY_DIR to rebuild" % image)
            newer.append("the first test image's budget (%s)" % testimage.BUDGET_FILE)
        if not newer:
            return image
        if not micropy_dir:
            print("warning: the test image %s is older than %d files it freezes (%s): its "
                  "tests are the ones frozen when it was built; give MICROPY_DIR to rebuild"
                  % (image, len(newer), ", ".join(newer[:5])))
            return image
    if not micropy_dir:
        raise Unavailable(
            "no %s firmware in %s and no MicroPython tree to build it: give MICROPY_DIR "
            "(docs/boards.md says what to fetch)" % (board, firmware.build_dir(board, emulated)))
    try:
        return firmware.build(micropy_dir, board, emulated=emulated, tests=tests)
    except firmware.FirmwareError as e:
        raise Unavailable("building the %s firmware failed: %s" % (board, e)) from e


# CHIP (make's CHIP=...) -> its name in messages; each boots in a machine of Espressif's fork
ESP32_EMULATED = {"c3": "ESP32-C3", "esp32": "ESP32"}


# The classic ESP32 reaches its banner in ~12-17 s in the fork's qemu on this machine: the
# probe holds its input up to this long (wait_for_prompt's quiet)
ESP32_QUIET_S = 60.0


def esp32_chip():
    """The esp32 chip to emulate: ``CHIP`` (c3 or esp32), the C3 when unset; else raise."""
    chip = os.environ.get("CHIP") or "c3"
    if chip not in ESP32_EMULATED:
        raise Unavailable("CHIP=%s: only the ESP32-C3 (CHIP=c3) and the classic ESP32 "
                          "(CHIP=esp32) have an emulator here" % chip)
    return chip


def esp32_image(micropy_dir):
    """The ESP32-C3 firmware (``make firmware BOARD=esp32 CHIP=c3``), or the classic ESP32's
    with ``CHIP=esp32``: the one built before, else built now when ``micropy_dir`` is given
    and ESP-IDF is set up. Both boot in Espressif's qemu fork."""
    chip = esp32_chip()
    name = ESP32_EMULATED[chip]
    image = os.path.join(esp32_build.esp32_build_dir(chip), "firmware.bin")
    if os.path.exists(image):
        return image
    if not micropy_dir:
        raise Unavailable("no %s firmware in %s and no MicroPython tree to build it: "
                          "`make firmware BOARD=esp32 CHIP=%s MICROPY_DIR=...` (ESP-IDF v5.5 "
                          "installed and exported, docs/boards.md)" % (
                              name, os.path.dirname(image), chip))
    try:
        return firmware.build(micropy_dir, "esp32", chip=chip)
    except firmware.FirmwareError as e:
        raise Unavailable("building the %s firmware failed: %s" % (name, e)) from e
