# shimeji: cpython-only (a host tool: writes a firmware's manifest, reads the bench's rows)
# tools/rp2040_layouts.py: the RP2040 bench over qstr layouts. A front layout's names sort
# before every frozen identifier (each is renumbered by the shift), a spread one's sit
# evenly among them, 0 freezes none, and each row is summed up as mean, least and most.
import pytest
import rp2040_layouts

# Frozen names as the sorted pool has them.
POOL = ["%s", "ADVICE", "AF_UNIX", "ASLEEP", "Awaitable", "BadArgument", "_names", "coro",
        "id", "id0", "sched", "sleep_ms", "zip"]
FROZEN = ("const qstr_pool_t mp_qstr_frozen_const_pool = {\n    10, // allocated entries\n"
          "    {\n" + "".join('        "%s",\n' % p for p in POOL) + "    },\n};\n")


def _names(source):
    return [line.split(" = ")[0] for line in source.splitlines() if " = " in line]


def test_a_front_layouts_names_are_the_shift_less_its_file_name_and_sort_first():
    for shift in (1, 5, 17, 40, 63):
        names = _names(rp2040_layouts.pad_source(shift))
        assert len(names) == shift - 1 == len(set(names))
        own = [rp2040_layouts.PAD_MODULE + ".py"]
        idents = [p for p in POOL if p.isidentifier()]
        assert sorted(names + own + idents)[-len(idents):] == idents
        assert all(n.isidentifier() for n in names)
    with pytest.raises(ValueError, match="1 or more"):
        rp2040_layouts.pad_source(0)


def test_the_pool_is_read_from_frozen_content_and_spread_names_sit_evenly_among_it():
    pool = rp2040_layouts.pool_names("enum {...};\n" + FROZEN)
    assert pool == POOL
    names = rp2040_layouts.spread_names(pool, 4)  # (12 identifiers: the 2nd, 5th, 8th, 11th)
    assert names == ["AF_UNIX0", "BadArgument0", "id00", "sleep_ms0"]  # (id0 is taken)
    for name in names:  # each right after its identifier, before the next one
        base = name.rstrip("0")
        merged = sorted(pool + [name])
        assert merged.index(name) == merged.index(base) + 1 + (base == "id")
    again = rp2040_layouts.spread_names(sorted(pool + names), 4, ours=names)
    assert again == names  # the last pad's names are not the pool's
    source = rp2040_layouts.pad_source(1, names)
    assert _names(source) == names


@pytest.mark.parametrize("text, layout", [("0", ("front", 0)), ("17", ("front", 17)),
                                          ("s5", ("spread", 5))])
def test_a_layout_is_a_front_shift_or_a_spread(text, layout):
    assert rp2040_layouts.parse_layout(text) == layout


def test_the_manifest_includes_the_boards_and_the_pad_module_when_there_is_one():
    pad = "/b/rp2040-layouts-pad"
    assert rp2040_layouts.pad_dir("/b/rp2040-layouts/") == pad
    plain = rp2040_layouts.manifest_source(False, pad)
    assert plain == "include(%r)\n" % rp2040_layouts.BOARD_MANIFEST
    padded = rp2040_layouts.manifest_source(True, pad)
    assert padded == plain + "module('AAAApad.py', base_path=%r)\n" % pad


def _row(metric, shimeji, ref):
    return {"workload": "spawn", "metric": metric, "shimeji": shimeji, "ref": ref,
            "ref_name": "asyncio"}


def test_each_row_is_its_mean_least_and_most_over_the_layouts():
    runs = {"0": [_row("detached", 100, 300), _row("note", "-", None)],
            "s5": [_row("detached", 110, 330), _row("note", "-", None)],
            "17": [_row("detached", 120, 300)]}
    rows = rp2040_layouts.summary(runs)
    detached = rows[0]
    assert detached["metric"] == "detached" and list(detached["by_layout"]) == ["0", "s5", "17"]
    assert detached["shimeji"] == (110, 100, 120)
    assert detached["ref"] == (310, 300, 330)
    assert detached["ratio"] == pytest.approx(((3.0 + 3.0 + 2.5) / 3, 2.5, 3.0))
    assert rows[1]["shimeji"] is None and rows[1]["ratio"] is None  # nothing to average
    lines = []
    rp2040_layouts.print_summary(rows, ["0", "s5", "17"], out=lines.append)
    assert "shimeji 110 (100-120)" in lines[2] and "spread 20.0 %" in lines[2]


def test_without_a_tree_it_says_why_and_exits_0(capsys):
    assert rp2040_layouts.main(["--micropy-dir", "/nonexistent"]) == 0
    assert "skipped: give --micropy-dir" in capsys.readouterr().out


@pytest.mark.parametrize("layouts", ["0,64", "-2", "s0", "x3"])
def test_layouts_that_cannot_be_made_are_refused(layouts):
    with pytest.raises(SystemExit):
        rp2040_layouts.main(["--layouts=" + layouts])
