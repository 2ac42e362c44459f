# shimeji: cpython-only (writes the stm32 qemu board copy from a stand-in MicroPython tree)
import os
import sys

import micropy_tree
import pytest
import stm32_build
import testimage

import firmware

USART = """typedef struct
{
  __IO uint32_t BRR;         /*!< USART Baud rate register,                 Address offset: 0x0C */
  __IO uint16_t GTPR;        /*!< USART Guard time and prescaler register,  Address offset: 0x10 */
  uint16_t  RESERVED2;       /*!< Reserved, 0x12                                                 */
  __IO uint16_t RQR;         /*!< USART Request register,                   Address offset: 0x18 */
  uint16_t  RESERVED3;       /*!< Reserved, 0x1A                                                 */
  __IO uint16_t RDR;         /*!< USART Receive Data register,              Address offset: 0x24 */
  uint16_t  RESERVED4;       /*!< Reserved, 0x26                                                 */
  __IO uint16_t TDR;         /*!< USART Transmit Data register,             Address offset: 0x28 */
  uint16_t  RESERVED5;       /*!< Reserved, 0x2A                                                 */
} USART_TypeDef;
"""
OTHER = "typedef struct\n{\n  __IO uint16_t CCR;\n  uint16_t  RESERVED2; /* kept */\n} DAC_X;\n"


def _tree(tmp_path, usart=USART):
    mp = tmp_path / "mp"
    board = mp / "ports" / "stm32" / "boards" / stm32_build.STM32_QEMU_BOARD
    board.mkdir(parents=True)
    (board / "mpconfigboard.h").write_text('#define MICROPY_HW_BOARD_NAME "B-L475E-IOT01A"\n')
    (board / "mpconfigboard.mk").write_text("MCU_SERIES = l4\n")
    (board / "pins.csv").write_text("A0,PA0\n")
    cmsis = mp / "lib" / "stm32lib" / "CMSIS" / "STM32L4xx" / "Include"
    cmsis.mkdir(parents=True)
    (cmsis / "stm32l4xx.h").write_text('#include "stm32l475xx.h"\n')
    (cmsis / "stm32l475xx.h").write_text(OTHER + usart + "#define USART1 ((USART_TypeDef *) 1)\n")
    return str(mp)


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setattr(stm32_build, "stm32_qemu_board_dir", lambda: str(tmp_path / "board"))
    monkeypatch.setattr(firmware, "build_dir", lambda b, emulated=False, tests=False,
                        network=None: str(tmp_path / ("build-tests" if tests else "build")))
    return tmp_path


def test_the_board_copy_gets_our_changes_and_the_usart_registers_become_32_bit(build):
    stm32_build.write_stm32_qemu_board(_tree(build))
    board = build / "board"
    header = (board / "mpconfigboard.h").read_text()
    assert header.startswith('#define MICROPY_HW_BOARD_NAME "B-L475E-IOT01A"\n')
    assert "#define MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE (0)" in header
    assert header.endswith('#define MICROPY_HW_BOARD_NAME "B-L475E-IOT01A in qemu"\n')
    assert "-Wl,--wrap=HAL_RCC_OscConfig" in (board / "mpconfigboard.mk").read_text()
    assert "__wrap_HAL_RCCEx_PeriphCLKConfig" in (board / "qemu_fixups.c").read_text()
    # rng_get (random's seed at import) must not read the unique ID qemu does not map: the
    # read reset the board, and a test module importing random never answered.
    assert "-Wl,--wrap=rng_get" in (board / "mpconfigboard.mk").read_text()
    assert "uint32_t __wrap_rng_get(void) {" in (board / "qemu_fixups.c").read_text()
    assert (board / "pins.csv").read_text() == "A0,PA0\n"
    usart = (build / "build" / "stm32l475xx.h").read_text()
    body = usart.split("} DAC_X;")[1].split("} USART_TypeDef;")[0]
    assert "uint16_t" not in body and body.count("__IO uint32_t") == 5
    assert "  uint16_t  RESERVED2; /* kept */" in usart  # other structs untouched
    assert (build / "build" / "stm32l4xx.h").read_text() == '#include "stm32l475xx.h"\n'


def test_writing_again_leaves_unchanged_files_alone(build):
    mp = _tree(build)
    stm32_build.write_stm32_qemu_board(mp)
    paths = [str(build / "board" / "mpconfigboard.h"), str(build / "build" / "stm32l475xx.h")]
    for p in paths:
        os.utime(p, (1, 1))
    stm32_build.write_stm32_qemu_board(mp)
    assert [os.stat(p).st_mtime for p in paths] == [1, 1]  # no rebuild of the whole port


def test_a_header_that_is_not_the_expected_one_stops_the_build(build):
    mp = _tree(build, USART.replace("__IO uint16_t TDR;", "__IO uint32_t TDR;"))
    with pytest.raises(firmware.FirmwareError, match="USART_TypeDef"):
        stm32_build.write_stm32_qemu_board(mp)


def test_the_make_line_names_the_copied_board_and_its_own_build_directory(build):
    cmd = firmware.make_args("/mp", "stm32", emulated=True)
    assert "BOARD=B_L475E_IOT01A" in cmd and "BOARD_DIR=" + str(build / "board") in cmd
    assert "BUILD=" + str(build / "build") in cmd
    assert "BOARD=PYBV11" in firmware.make_args("/mp", "stm32")
    with pytest.raises(firmware.FirmwareError, match="BOARD=stm32"):
        firmware.build(_tree(build), "rp2040", emulated=True)


def test_the_test_image_freezes_the_tests_in_its_own_build_directory(build):
    cmd = firmware.make_args("/mp", "stm32", emulated=True, tests=True)
    assert "FROZEN_MANIFEST=" + stm32_build.TESTS_MANIFEST in cmd
    assert stm32_build.TESTS_MANIFEST.endswith(os.path.join("boards", "stm32", "qemu",
                                                         "manifest_tests.py"))
    assert "BUILD=" + str(build / "build-tests") in cmd  # never the plain image's
    assert ("CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024 "
            "-DMICROPY_MALLOC_USES_ALLOCATED_SIZE=1 -DMICROPY_MEM_STATS=1") in cmd
    # The plain image (emulated or the real board) gets the larger look-up cache only.
    for plain in (firmware.make_args("/mp", "stm32", emulated=True),
                  firmware.make_args("/mp", "stm32")):
        assert [a for a in plain if "CFLAGS" in a] == [
            "CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024"]
    assert not [a for a in firmware.make_args("/mp", "qemu") if "CFLAGS" in a]
    mp = _tree(build)
    stm32_build.write_stm32_qemu_board(mp, tests=True)
    assert (build / "build-tests" / "stm32l475xx.h").exists()
    assert not (build / "build").exists()
    # The firmware may use the whole 1 MB flash (no internal filesystem in this build): the
    # test image is larger than the 512 KB MicroPython's linker script leaves it.
    ld = (build / "board" / "stm32l475_qemu.ld").read_text()
    assert "FLASH (rx)      : ORIGIN = 0x08000000, LENGTH = 1024K" in ld
    assert "LD_FILES = $(BOARD_DIR)/stm32l475_qemu.ld" in (build / "board" /
                                                           "mpconfigboard.mk").read_text()
    with pytest.raises(firmware.FirmwareError, match="--tests"):
        firmware.build(mp, "stm32", tests=True)


def test_a_build_directory_made_with_other_cflags_is_built_again_from_scratch(tmp_path):
    # make rebuilds nothing for a changed CFLAGS_EXTRA: objects with a 128-entry look-up cache
    # beside ones with 512 disagree on MicroPython's state layout, so the directory is emptied.
    build = tmp_path / "stm32-qemu"
    build.mkdir()
    (build / "old.o").write_text("")  # built before the flags were recorded
    said = []
    cmd = firmware.make_args("/mp", "stm32", emulated=True)
    stm32_build.clean_on_new_cflags(str(build), cmd, said.append)
    assert sorted(os.listdir(build)) == [stm32_build.CFLAGS_STAMP]
    assert "not recorded" in said[0] and len(said) == 1
    (build / "new.o").write_text("")
    stm32_build.clean_on_new_cflags(str(build), cmd, said.append)  # the same flags: kept
    assert sorted(os.listdir(build)) == ["new.o", stm32_build.CFLAGS_STAMP] and len(said) == 1
    stm32_build.clean_on_new_cflags(str(build), cmd + ["CFLAGS_EXTRA=-DX=1"], said.append)
    assert sorted(os.listdir(build)) == [stm32_build.CFLAGS_STAMP]
    assert "-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024" in said[1]
    with open(build / stm32_build.CFLAGS_STAMP) as f:
        assert f.read() == ("CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024"
                            "CFLAGS_EXTRA=-DX=1")
    fresh = tmp_path / "fresh"
    stm32_build.clean_on_new_cflags(str(fresh), cmd, said.append)  # none yet: made, no message
    assert os.listdir(fresh) == [stm32_build.CFLAGS_STAMP] and len(said) == 2


def test_the_test_image_leaves_out_what_fwtest_mounts_anyway():
    # boards/stm32/qemu/manifest_tests.py freezes what tools/testimage.py's plan says, and
    # fwtest runs from the mount what the plan leaves out (NEEDS_FILES, the flash budget):
    # one rule in both, or a module is frozen for nothing or not found at all.
    import fwtest
    import testimage

    path = os.path.join(stm32_build.STM32_QEMU_CHANGES, "manifest_tests.py")
    with open(path) as f:
        text = f.read()
    assert "testimage.plan(_TESTS, part=testimage.current_part())[0]" in text
    assert fwtest.NEEDS_FILES is testimage.NEEDS_FILES


def test_an_image_too_large_for_the_flash_says_so_and_what_to_lower(build, monkeypatch):
    mp = _tree(build)
    cross = os.path.join(mp, "mpy-cross", "build", "mpy-cross")
    os.makedirs(os.path.dirname(cross))
    open(cross, "w").close()
    monkeypatch.setattr(micropy_tree, "check_tree", lambda path, board: path)
    monkeypatch.setattr(micropy_tree, "check_submodules", lambda *a: None)
    link = "ld: region `FLASH' overflowed by 11972 bytes\n"

    def make(cmd, env, tail, said=[link]):  # noqa: B006 (what make printed last)
        tail.extend(["LINK firmware.elf\n"] + said)
        return 2

    monkeypatch.setattr(firmware, "_run_keeping_tail", make)
    monkeypatch.delenv(testimage.BUDGET_ENV, raising=False)
    said = []
    with pytest.raises(firmware.FirmwareError, match=r"\(11972 B over\) after the frozen test "
                       "source was lowered to 671006 B: lower FROZEN_SOURCE_BUDGET"):
        firmware.build(mp, "stm32", emulated=True, tests=True, out=said.append)
    # The test image was linked three times, its budget lowered by what it was over each time.
    assert [line for line in said if "over the flash" in line] == [
        "the test image is 11972 B over the flash: frozen test source 780000 -> 725503 B, "
        "linking again",
        "the test image is 11972 B over the flash: frozen test source 725503 -> 671006 B, "
        "linking again"]
    assert not os.path.exists(os.path.join(str(build / "build-tests"), testimage.BUDGET_FILE))
    with pytest.raises(firmware.FirmwareError) as e:  # the plain image: no budget to lower
        firmware.build(mp, "stm32", emulated=True, out=lambda line: None)
    assert str(e.value).endswith("(11972 B over).")
    monkeypatch.setattr(firmware, "_run_keeping_tail", lambda cmd, env, tail: 2)
    with pytest.raises(firmware.FirmwareError, match="It needs"):  # any other failure
        firmware.build(mp, "stm32", emulated=True, out=lambda line: None)


def test_a_test_image_over_the_flash_is_linked_again_with_less_frozen_and_records_it(
        build, monkeypatch):
    # The budget follows the flash map (tools/testimage.py): an overflowing link is built again
    # at once with the budget lowered; the one that fits records its budget and spare flash,
    # which fwtest's plan reads and the next build starts from (raised by the spare).
    mp = _tree(build)
    cross = os.path.join(mp, "mpy-cross", "build", "mpy-cross")
    os.makedirs(os.path.dirname(cross))
    open(cross, "w").close()
    monkeypatch.setattr(micropy_tree, "check_tree", lambda path, board: path)
    monkeypatch.setattr(micropy_tree, "check_submodules", lambda *a: None)
    monkeypatch.delenv(testimage.BUDGET_ENV, raising=False)
    budgets = []

    def make(cmd, env, tail):
        budgets.append(int(env[testimage.BUDGET_ENV]))
        if len(budgets) == 1:
            tail.append("ld: region `FLASH' overflowed by 3000 bytes\n")
            return 2
        os.makedirs(str(build / "build-tests"), exist_ok=True)
        (build / "build-tests" / "firmware.elf").write_text("")
        tail.append("   text\t   data\t    bss\t    dec\t    hex\tfilename\n"
                    "1000000\t     56\t  21840\t1021896\t  f97c8\t%s/firmware.elf\n"
                    % (build / "build-tests"))
        return 0

    monkeypatch.setattr(firmware, "_run_keeping_tail", make)
    said = []
    firmware.build(mp, "stm32", emulated=True, tests=True, out=said.append)
    assert budgets == [780000, 780000 - int((3000 + 8192) / 0.37)]
    assert "test image: frozen test source %d B, 48520 B of flash spare" % budgets[1] in said
    where = str(build / "build-tests")
    assert testimage.built(where) == (budgets[1], 48520)
    assert testimage.current_budget(where) == budgets[1]  # what fwtest's plan uses
    monkeypatch.setenv(testimage.BUDGET_ENV, "1234")  # (while a build runs: the manifest's)
    assert testimage.current_budget(where) == 1234
    # The next build freezes more: its budget raised by the spare flash past the margin.
    # (at the share a raise's modules take, larger than the suite's: session 22's raise at
    # 0.37 left 908 B of flash, not the margin)
    assert testimage.next_budget(where) == budgets[1] + int((48520 - 8192) / 0.55)


def test_the_second_test_image_is_planned_from_the_first_and_built_beside_it(
        tmp_path, monkeypatch):
    # The second test image freezes what the first leaves out: its build reads the first's
    # budget, asks the manifest for part 2 (PART_ENV) and records that budget, so that a
    # first image built again with another one makes it stale.
    assert firmware.build_dir("stm32", True, 2).endswith(os.path.join("firmware",
                                                                      "stm32-qemu-tests2"))
    assert firmware.build_dir("stm32", True, True).endswith("stm32-qemu-tests")
    cmd = firmware.make_args("/mp", "stm32", emulated=True, tests=2)
    assert "FROZEN_MANIFEST=" + stm32_build.TESTS_MANIFEST in cmd
    assert "BUILD=" + firmware.build_dir("stm32", True, 2) in cmd
    dirs = {True: tmp_path / "t1", 2: tmp_path / "t2"}
    monkeypatch.setattr(firmware, "build_dir", lambda b, emulated=False, tests=False,
                        network=None: str(dirs.get(tests, tmp_path / "plain")))
    dirs[True].mkdir()
    (dirs[True] / testimage.BUDGET_FILE).write_text("812065 9000\n")
    seen = []

    def make(cmd, env, tail):
        seen.append((env.get(testimage.PART_ENV), env[testimage.BUDGET_ENV]))
        dirs[2].mkdir(exist_ok=True)
        tail.append("   text\t   data\t    bss\t    dec\t    hex\tfilename\n"
                    "700000\t     56\t  21840\t721896\t  f97c8\t%s/firmware.elf\n" % dirs[2])
        return 0

    monkeypatch.setattr(firmware, "_run_keeping_tail", make)
    said = []
    env = {testimage.PART_ENV: "2"}
    assert firmware._make(["make"], env, "stm32", 2, said.append)[0] == 0
    assert seen == [("2", "812065")]
    assert testimage.built(str(dirs[2])) == (812065, 1048576 - 700056)
    assert not testimage.second_is_stale(str(dirs[True]), str(dirs[2]))
    assert said == ["second test image: the test modules the first (frozen test source 812065 "
                    "B) leaves out, 348520 B of flash spare"]
    # The first image's build never asks for part 2, whatever the environment had.
    firmware._make(["make"], env, "stm32", True, said.append)
    assert seen[-1][0] is None


def test_a_build_passes_its_output_on_and_keeps_its_tail(capsys):
    tail = []
    code = "for i in range(50): print(i)\nraise SystemExit(3)"
    assert firmware._run_keeping_tail([sys.executable, "-c", code], None, tail, keep=5) == 3
    assert tail == ["45\n", "46\n", "47\n", "48\n", "49\n"]
    assert capsys.readouterr().out.splitlines() == [str(i) for i in range(50)]
