# shimeji: cpython-only (a host tool: tools/instr.py's tables of valgrind workloads)
"""tools/instr.py's workloads: one table per subject (tools/instr_*.py), merged in order."""

import instr
import instr_executor
import instr_prototypes
import instr_spawn
import instr_switch
import instr_timers
import instr_wake
import pytest

TABLES = (instr_executor, instr_timers, instr_prototypes, instr_spawn, instr_switch, instr_wake)


def test_every_table_row_is_a_workload_and_every_workload_a_table_row():
    rows = [name for t in TABLES for name in t.WORKLOADS]
    assert len(rows) == len(set(rows))
    assert list(instr.WORKLOADS) == rows
    for t in TABLES:
        for name, code in t.WORKLOADS.items():
            assert instr.WORKLOADS[name] is code


def test_a_row_in_two_tables_is_refused_with_its_name():
    with pytest.raises(ValueError, match="'switch' is in two tables"):
        instr.merged({"switch": "a"}, {"tick one": "b", "switch": "c"})
    assert instr.merged({"a": "1"}, {"b": "2"}) == {"a": "1", "b": "2"}


def test_the_prototype_rows_put_bench_on_the_path():
    for name, code in instr_prototypes.WORKLOADS.items():
        assert "sys.path.insert(0, %r)" % instr_prototypes.BENCH in code, name
        assert "import proto_" in code, name
    assert instr_prototypes.BENCH.endswith("/bench")


def test_every_ratio_pairs_two_workloads_and_no_name_has_a_comma():
    # --only splits its list on commas: a row named with one could never be measured alone.
    assert ("spawn+join", "asyncio create_task+await") in instr.RATIOS
    for ours, theirs in instr.RATIOS:
        assert ours in instr.WORKLOADS and theirs in instr.WORKLOADS, (ours, theirs)
    assert not [name for name in instr.WORKLOADS if "," in name]
