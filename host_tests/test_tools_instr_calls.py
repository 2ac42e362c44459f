# shimeji: cpython-only (a host tool: parses valgrind's callgrind output files)
# tools/instr.py --calls: the calls to the VM's runtime helpers, summed over a callgrind file.
import instr

# A callgrind file in valgrind 3's format, names compressed to "(id)" after their first use.
CALLGRIND = """\
fn=(1) iterate
cfn=(2) mp_load_attr
calls=3 0
5 60
cfn=(3) mp_obj_is_true
calls=2 0
6 10
fn=(4) tick
cfn=(2)
calls=4 0
7 80
cfn=(5) mp_store_attr
calls=1 0
8 12
fn=(2)
cfn=(6) mp_load_method
calls=7 0
9 40
"""


def test_calls_are_summed_per_callee_across_callers_and_compressed_names():
    got = instr.calls_to(CALLGRIND.splitlines(True), instr.RUNTIME_CALLS)
    assert got == {"mp_load_attr": 7, "mp_store_attr": 1, "mp_load_method": 7,
                   "mp_obj_subscr": 0, "mp_binary_op": 0, "mp_unary_op": 0,
                   "mp_obj_is_true": 2}


def test_names_outside_the_list_are_not_counted():
    got = instr.calls_to(CALLGRIND.splitlines(True), ("mp_store_attr",))
    assert got == {"mp_store_attr": 1}


def test_layout_prefix_interns_that_many_names_and_runs_as_nothing():
    assert instr.layout_prefix(0) == ""
    src = instr.layout_prefix(17)
    names = {}
    exec(src, names)  # defines a function, never called: its names are only interned
    code = names["_layout"].__code__
    assert len(set(code.co_names)) == 17


def test_operations_are_the_fired_count_a_run_printed_else_n():
    assert instr.operations("x\nFIRED 2192\n", 2000) == 2192
    assert instr.operations("", 2000) == 2000
    assert instr.operations("FIRED 12 ms\n", 7) == 7  # (only a line of its own counts)


def test_each_timer_ratio_pairs_two_workloads_that_count_their_fired_timers():
    assert set(instr.TIMER_RATIOS) <= set(instr.RATIOS)
    for ours, theirs in instr.TIMER_RATIOS:
        assert "FIRED" in instr.WORKLOADS[ours] and "FIRED" in instr.WORKLOADS[theirs]
    for ours, theirs in instr.RATIOS:  # (the spawn rows' too: shimeji's over asyncio's)
        assert "import asyncio" in instr.WORKLOADS[theirs]
        assert "import asyncio" not in instr.WORKLOADS[ours]


def test_tickless_workloads_fire_at_least_n_timers_on_the_unix_port():
    import os
    import subprocess
    import tempfile

    import pytest

    mp = os.path.join(instr.ROOT, ".venv", "bin", "micropython")
    if not os.path.exists(mp):
        pytest.skip("needs the unix port at .venv/bin/micropython (make venv)")
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", os.path.join(instr.ROOT,
                                                                               "firmware")]))
    names = [name for pair in instr.TIMER_RATIOS for name in pair] + ["tickless no ring"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(tmp, "w.py")
            with open(path, "w") as f:
                f.write(instr.PRELUDE + "TICK = 1000\n" + instr.WORKLOADS[name])
            runs = [subprocess.run([mp, path, "300"], env=env, capture_output=True, text=True,
                                   timeout=60) for _ in range(2)]
            fired = [instr.operations(r.stdout, None) for r in runs]
            assert fired[0] is not None and fired[0] >= 300, (name, runs[0].stderr[-500:])
            assert fired[0] == fired[1], name  # deterministic: the clock is the program's
