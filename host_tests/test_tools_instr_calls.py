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
