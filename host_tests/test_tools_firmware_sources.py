# shimeji: cpython-only (make firmware's checks of the MicroPython tree, a host tool)
# A tree without git (copied, or an archive without submodules) cannot run `make submodules`:
# make firmware names every empty submodule the board needs with the commit v1.28.0 pins and a
# clone command for each; a git checkout is told to run `make submodules`.
import os

import micropy_tree
import pytest

import firmware


def _tree(tmp_path, version=(1, 28, 0), git=False):
    os.makedirs(tmp_path / "py")
    (tmp_path / "py" / "mpconfig.h").write_text(
        "#define MICROPY_VERSION_MAJOR %d\n#define MICROPY_VERSION_MINOR %d\n"
        "#define MICROPY_VERSION_MICRO %d\n" % version)
    for port in ("rp2", "stm32", "qemu"):
        os.makedirs(tmp_path / "ports" / port)
    for sub in ("micropython-lib", "pico-sdk", "tinyusb", "mbedtls", "stm32lib"):
        os.makedirs(tmp_path / "lib" / sub)
    if git:
        os.makedirs(tmp_path / ".git")
    return str(tmp_path)


def test_a_tree_without_git_gets_every_pin_and_a_clone_line(tmp_path):
    tree = _tree(tmp_path)
    assert micropy_tree.tree_version(tree) == (1, 28, 0)
    with pytest.raises(firmware.FirmwareError) as e:
        micropy_tree.check_tree(tree, "rp2040")
    text = str(e.value)
    assert "is not a git checkout" in text
    for path in ("lib/pico-sdk", "lib/tinyusb", "lib/mbedtls", "lib/micropython-lib"):
        url, commit = micropy_tree.PINS_V1_28_0[path]
        assert "%s (pinned at %s)" % (path, commit) in text
        where = os.path.join(tree, path)
        assert "git clone %s %s && git -C %s checkout %s" % (url, where, where, commit) in text
    assert "stm32lib" not in text


def test_the_pins_are_whole_commits_of_v1_28_0():
    assert micropy_tree.PINS_V1_28_0["lib/pico-sdk"][1].startswith("a1438dff")
    assert micropy_tree.PINS_V1_28_0["lib/stm32lib"][1].startswith("07619754")
    for url, commit in micropy_tree.PINS_V1_28_0.values():
        assert url.startswith("https://github.com/") and len(commit) == 40
        int(commit, 16)


def test_another_version_without_git_is_told_where_to_read_its_pins(tmp_path):
    tree = _tree(tmp_path, version=(1, 27, 0))
    with pytest.raises(firmware.FirmwareError) as e:
        micropy_tree.check_tree(tree, "stm32")
    text = str(e.value)
    assert "lib/stm32lib, lib/tinyusb, lib/micropython-lib" in text and "pinned at" not in text
    assert "git ls-tree vX.Y.Z lib/stm32lib" in text


def test_a_git_checkout_is_told_to_run_make_submodules(tmp_path):
    tree = _tree(tmp_path, git=True)
    with pytest.raises(firmware.FirmwareError) as e:
        micropy_tree.check_tree(tree, "qemu")
    assert "make -C %s/ports/qemu submodules" % tree in str(e.value)
    assert "git clone" not in str(e.value)


def test_a_filled_tree_passes(tmp_path):
    tree = _tree(tmp_path)
    (tmp_path / "lib" / "micropython-lib" / "README.md").write_text("x")
    assert micropy_tree.check_tree(tree, "qemu") == tree
    micropy_tree.check_submodules(tree, "qemu", {})
    with pytest.raises(firmware.FirmwareError, match="lib/pico-sdk"):
        micropy_tree.check_submodules(tree, "rp2040", {})
    (tmp_path / "sdk").mkdir()
    (tmp_path / "sdk" / "x").write_text("x")
    with pytest.raises(firmware.FirmwareError) as e:
        micropy_tree.check_submodules(tree, "rp2040", {"PICO_SDK_PATH": str(tmp_path / "sdk")})
    assert "lib/pico-sdk" not in str(e.value) and "lib/tinyusb" in str(e.value)


@pytest.mark.parametrize("argv", [["rp2040"], ["qemu", "--boot"], ["esp32", "--chip", "c3"]])
def test_make_firmware_without_a_tree_says_what_to_fetch_and_skips(argv, monkeypatch, capsys):
    monkeypatch.delenv("MICROPY_DIR", raising=False)  # as `make firmware BOARD=...` alone
    assert firmware.main(argv) == 0  # skipped, as every firmware target without a tree
    out = capsys.readouterr().out
    assert out.startswith("skipped: make firmware needs a MicroPython source tree")
    assert "git clone https://github.com/micropython/micropython" in out


def test_make_firmware_of_a_tree_that_is_not_one_is_an_error(tmp_path, capsys):
    assert firmware.main(["qemu", "--micropy-dir", str(tmp_path)]) == 2
    assert "is not a MicroPython source tree" in capsys.readouterr().err
