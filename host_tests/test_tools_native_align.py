# shimeji: cpython-only (patches a copy of MicroPython's mpy-tool.py: files and subprocesses)
import os
import types

import native_align
import pytest

# The lines of MicroPython v1.28.0's tools/mpy-tool.py that the patch changes, with a bit around
SOURCE = """class RawCodeNative(RawCode):
    def __init__(self):
        # Allow single-byte alignment by default for x86/x64.
        # ARM needs word alignment, ARM Thumb needs halfword, due to instruction size.
        # Xtensa needs word alignment due to the 32-bit constant table embedded in the code.
        if config.native_arch in (
            MP_NATIVE_ARCH_ARMV6,
            MP_NATIVE_ARCH_XTENSA,
            MP_NATIVE_ARCH_XTENSAWIN,
        ):
            # ARMV6 or Xtensa -- four byte align.
            self.fun_data_attributes += " __attribute__ ((aligned (4)))"
        elif (
            MP_NATIVE_ARCH_ARMV6M <= config.native_arch <= MP_NATIVE_ARCH_ARMV7EMDP
        ) or MP_NATIVE_ARCH_RV32IMC <= config.native_arch <= MP_NATIVE_ARCH_RV64IMC:
            # ARMVxxM or RV{32,64}IMC -- two byte align.
            self.fun_data_attributes += " __attribute__ ((aligned (2)))"
"""


def _tree(tmp_path, source=SOURCE):
    (tmp_path / "mp" / "tools").mkdir(parents=True)
    (tmp_path / "mp" / "py").mkdir()
    (tmp_path / "mp" / "tools" / "mpy-tool.py").write_text(source)
    (tmp_path / "mp" / "py" / "makeqstrdata.py").write_text("# qstr helpers\n")
    return str(tmp_path / "mp" / "tools" / "mpy-tool.py")


def test_the_patch_puts_armv6m_with_the_word_aligned_architectures(tmp_path):
    out = native_align.patched_copy(_tree(tmp_path), str(tmp_path / "out"))
    text = open(out).read()
    head = text.split("if config.native_arch in (")[1].split("):")[0]  # the 4-byte-aligned
    assert "MP_NATIVE_ARCH_ARMV6M," in head and "MP_NATIVE_ARCH_ARMV6," in head
    assert text.replace("            MP_NATIVE_ARCH_ARMV6M,\n", "", 1).count("\n") == \
        SOURCE.count("\n") + 1  # one line added, one comment line made two
    # mpy-tool imports makeqstrdata from its own ../py
    assert os.path.exists(str(tmp_path / "out" / "py" / "makeqstrdata.py"))
    # applying it to a copy already patched changes nothing
    hunks = native_align.read_hunks(open(native_align.PATCH).read())
    assert native_align.apply_hunks(text, hunks) == text


def test_a_tool_the_patch_does_not_fit_stops_the_build_saying_what_to_do(tmp_path):
    tool = _tree(tmp_path, SOURCE.replace("MP_NATIVE_ARCH_XTENSA,\n", "", 1))
    with pytest.raises(native_align.PatchError, match="bytecode=True"):
        native_align.patched_copy(tool, str(tmp_path / "out"))


def test_install_runs_the_patched_copy_for_mpy_tool_calls_only(tmp_path):
    tool = _tree(tmp_path)
    calls = []
    main = types.SimpleNamespace(__file__="/mp/tools/makemanifest.py",
                                 system=lambda cmd: calls.append(cmd) or (0, b""))
    assert native_align.install(str(tmp_path / "out"), main)
    main.system(["python3", tool, "-f", "-q", "x.mpy"])
    main.system(["python3", "/mp/tools/other.py"])
    patched = str(tmp_path / "out" / "tools" / "mpy-tool.py")
    assert calls == [["python3", patched, "-f", "-q", "x.mpy"], ["python3", "/mp/tools/other.py"]]
    assert "MP_NATIVE_ARCH_ARMV6M,\n            MP_NATIVE_ARCH_XTENSA" in open(patched).read()


def test_install_does_nothing_outside_makemanifest(tmp_path):
    main = types.SimpleNamespace(__file__="/usr/bin/pytest", system=print)
    assert native_align.install(str(tmp_path), main) is False
    assert main.system is print
    with pytest.raises(SystemExit, match="bytecode=True"):
        native_align.install(str(tmp_path), types.SimpleNamespace(__file__="makemanifest.py"))


# What make firmware reads after an rp2040 build: the native arrays of frozen_content.c (in
# .text) and their addresses in the linked ELF (arm-none-eabi-nm).
_ATTRS = ('__attribute__((section(".text,\\"ax\\",%progbits @ "))) '
          "__attribute__ ((aligned (4))) = {\n")
FROZEN = ("static const byte fun_data_shimeji_time_wheelplace_place[96] " + _ATTRS
          + "static const byte fun_data_shimeji_core_yield_now[168] " + _ATTRS
          + "static const byte fun_data_shimeji_core_spawn[40] = {\n")


def _built(tmp_path, monkeypatch, place_at):
    import firmware

    build = tmp_path / "build"
    build.mkdir()
    (build / "frozen_content.c").write_text(FROZEN)
    (build / "firmware.elf").write_text("")
    nm = tmp_path / "arm-none-eabi-nm"
    nm.write_text("#!/bin/sh\necho '%08x t fun_data_shimeji_time_wheelplace_place'\n"
                  "echo '10036f6c t fun_data_shimeji_core_yield_now'\n"
                  "echo '10030001 r fun_data_shimeji_core_spawn'\n" % place_at)
    nm.chmod(0o755)
    monkeypatch.setenv("PATH", "%s%s%s" % (tmp_path, os.pathsep, os.environ["PATH"]))
    monkeypatch.setattr(firmware, "build_dir", lambda board: str(build))
    return firmware


def test_make_firmware_reads_each_native_functions_address_in_the_elf(tmp_path, monkeypatch):
    firmware = _built(tmp_path, monkeypatch, 0x100388AC)
    said = []
    firmware.check_native_alignment("rp2040", said.append)
    # the two native arrays, not the bytecode one (whose odd address is harmless)
    assert said == ["frozen native and viper functions: 2, every one word-aligned in %s"
                    % (tmp_path / "build" / "firmware.elf")]


def test_make_firmware_refuses_native_code_the_link_left_off_a_word(tmp_path, monkeypatch):
    firmware = _built(tmp_path, monkeypatch, 0x100388AE)
    with pytest.raises(firmware.FirmwareError,
                       match="fun_data_shimeji_time_wheelplace_place at 0x100388ae"):
        firmware.check_native_alignment("rp2040", print)
