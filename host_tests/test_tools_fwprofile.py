# shimeji: cpython-only (a host tool: parses qemu's logs and a firmware build's qstr pools)
# tools/fwprofile.py: guest instructions per function of the firmware from qemu's in_asm/exec
# log, and the map lookups whose key missed MicroPython's lookup cache from its cpu log.
import fwprofile

# Two translation blocks (3 and 2 instructions), in qemu 10's log format, executed 3 times.
LOG = """----------------
IN: mp_map_lookup
0x0800eef0:  b570       push {r4, r5, r6, lr}
0x0800eef2:  6843       ldr r3, [r0, #4]
0x0800eef4:  d001       beq #0x800eefa

----------------
IN: fun_data_shimeji_sched_lifecycle_TaskLifecycle_spawn
0x08100000:  b500       push {lr}
0x08100002:  4770       bx lr

Trace 0: 0x7f0000000100 [00000000/08100000/01000000/ff200000] fun_data_shimeji_x
Trace 0: 0x7f0000000200 [00000000/0800eef0/01000000/ff200000] mp_map_lookup
Trace 0: 0x7f0000000200 [00000000/0800eef0/01000000/ff200000] mp_map_lookup
"""

SYMS = [(0x0800eef0, 0x260, "mp_map_lookup"),
        (0x08100000, 0x40, "fun_data_shimeji_sched_lifecycle_TaskLifecycle_spawn")]


def test_blocks_are_counted_per_symbol_and_charged_to_the_frozen_caller():
    sizes, executed = fwprofile.read_log(LOG.splitlines(True))
    assert sizes == {0x0800eef0: 3, 0x08100000: 2}
    assert executed == [0x08100000, 0x0800eef0, 0x0800eef0]
    self_, own, total = fwprofile.profile(fwprofile.SymbolMap(SYMS), sizes, executed)
    spawn = "fun_data_shimeji_sched_lifecycle_TaskLifecycle_spawn"
    assert (dict(self_), total) == ({"mp_map_lookup": 6, spawn: 2}, 8)
    assert dict(own) == {spawn: 8}  # the lookups it made count for it
    assert fwprofile.SymbolMap(SYMS).name(0x0800ef00) == "mp_map_lookup"
    assert fwprofile.SymbolMap(SYMS).name(0x09000000) == "?"


def test_lookup_keys_and_cache_misses_are_named_from_the_qstr_pools(tmp_path):
    genhdr = tmp_path / "genhdr"
    genhdr.mkdir()
    (genhdr / "qstrdefs.generated.h").write_text(
        'QDEF0(MP_QSTRnull, 0, 0, "")\nQDEF1(MP_QSTR_id, 1, 2, "id")\n')
    (tmp_path / "frozen_content.c").write_text(
        "const qstr_pool_t mp_qstr_frozen_const_pool = {\n    &mp_qstr_const_pool,\n"
        "    (qstr_len_t *)mp_qstr_frozen_const_lengths,\n    {\n        \"sched\",\n"
        "    },\n};\n")
    names = fwprofile.qstr_names(str(tmp_path))
    assert names == ["", "id", "sched"]
    lookup, find = 0x0800eef0, 0x08001144
    regs = "R00=20001000 R01=%08x R02=%08x R03=00000000\n"
    log = ["Trace 0: 0x1 [0/0800eef0/0/0] mp_map_lookup\n", regs % ((2 << 3) | 2, 1),
           "Trace 0: 0x2 [0/08001144/0/0] find_qstr\n",  # "sched" stored: hashed
           "Trace 0: 0x1 [0/0800eef0/0/0] mp_map_lookup\n", regs % ((1 << 3) | 2, 0),
           "Trace 0: 0x1 [0/0800eef0/0/0] mp_map_lookup\n", regs % ((1 << 3) | 2, 0)]
    stats = fwprofile.lookup_stats(log, lookup, find, names)
    assert stats == {("sched", 1): [1, 1], ("id", 0): [2, 0]}
