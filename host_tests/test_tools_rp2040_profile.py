# shimeji: cpython-only (a host tool: reads a firmware build's symbols and frozen_content.c)
# tools/rp2040_profile.py: the RP2040 emulator's cycles per (owner, PC), summed per C function
# and per frozen function that owned them; the owners' table from the build.
import rp2040_profile

FROZEN = (
    "static const byte fun_data_shimeji_a_spawn[81] __attribute__((section(\".text,\\\"ax\\\","
    "%progbits @ \"))) __attribute__ ((aligned (4))) = {\n"
    "static const byte fun_data_shimeji_a_spawn_prelude[5] = { 0x2a, 0x06, 0x25, 0x40, 0x5b,};\n"
    "static const byte fun_data_shimeji_a__lt_module_gt_[372] = {\n")
SYMS = [(0x1000a904, 0x290, "mp_map_lookup"),
        (0x1001c1c4, 0x1374, "mp_execute_bytecode"),
        (0x10080000, 0x54, "fun_data_shimeji_a_spawn"),
        (0x10080054, 0x5, "fun_data_shimeji_a_spawn_prelude"),
        (0x10080060, 0x174, "fun_data_shimeji_a__lt_module_gt_")]


def test_owners_are_native_code_bytecode_and_the_vm_for_run_time_bytecode(tmp_path):
    (tmp_path / "frozen_content.c").write_text(FROZEN)
    table = rp2040_profile.owners(str(tmp_path), SYMS)
    assert table == [
        (0x1001c1c4, 0x1001c1c4 + 0x1374, "r", "(bytecode compiled at run time)"),
        (0x10080000, 0x10080054, "c", "fun_data_shimeji_a_spawn"),
        (0x10080060, 0x100801d4, "b", "fun_data_shimeji_a__lt_module_gt_")]  # no prelude


def test_cycles_are_summed_per_function_and_per_owner_and_a_base_is_subtracted():
    symmap = rp2040_profile.fwprofile.SymbolMap(SYMS)
    names = ["spawn", "module"]
    run = [[0, 0x1000a904, 10, 16], [0, 0x10080002, 4, 5], [1, 0x1000a906, 2, 3],
           [-1, 0x100, 1, 1], [1, 0x30000000, 1, 2]]
    base = [[0, 0x1000a904, 4, 6]]
    rows = rp2040_profile.minus(run, base)
    cyc, ins, own, pairs = rp2040_profile.tally(rows, symmap, names)
    assert dict(cyc) == {"mp_map_lookup": 13, "fun_data_shimeji_a_spawn": 5, "bootrom": 1,
                         "? 30000000": 2}
    assert ins["mp_map_lookup"] == 8
    assert dict(own) == {"spawn": 15, "module": 5, "(none yet)": 1}
    assert pairs[("module", "mp_map_lookup")] == 3
    assert rp2040_profile.short("fun_data_shimeji_a_spawn") == "shimeji_a_spawn"
