# shimeji: cpython-only (tools/heap_model.py: heapwhy's mark phase model, on a made-up heap)
import struct

import heap_model
from heap_model import AT_FREE, AT_HEAD, AT_MARK, AT_TAIL, HeapModel

POOL = 0x3FC90000
N = 16  # blocks


def _heap(blocks, words, marked=()):
    """An area of N blocks: ``blocks`` {index: kind}, ``words`` {address: value}."""
    atb = bytearray(N // 4)
    for b, k in blocks.items():
        if b in marked and k == AT_HEAD:
            k = AT_MARK
        atb[b >> 2] |= k << (2 * (b & 3))
    pool = bytearray(N * 16)
    for a, v in words.items():
        struct.pack_into("<I", pool, a - POOL, v)
    return HeapModel([(POOL, POOL + N * 16, bytes(atb), bytes(pool))])


def blk(i):
    return POOL + 16 * i


# A (block 0) -> B (blocks 2-3, two blocks): B's pointer to C is in its tail block. D (block 5)
# is reached only by an interior pointer (into B's tail, from A) and a pointer to a tail.
def _sample(marked=()):
    return _heap({0: AT_HEAD, 2: AT_HEAD, 3: AT_TAIL, 5: AT_HEAD, 6: AT_HEAD, 8: AT_HEAD},
                 {blk(0) + 4: blk(2), blk(0) + 8: blk(3), blk(3) + 8: blk(6),
                  blk(8): blk(5) + 4, blk(6) + 12: 7}, marked)


def test_only_exact_pointers_to_a_head_keep_a_block_and_a_kept_block_is_scanned_to_its_tail():
    model = _sample()
    reached = model.reach([("root", blk(0))])
    assert sorted(reached) == [blk(0), blk(2), blk(6)]
    assert model.size(blk(2)) == 32 and model.size(blk(0)) == 16
    assert reached[blk(6)] == (blk(2), 24)  # the word at B+24, in its second block
    assert not model.is_head(blk(3)) and not model.is_head(blk(1))  # a tail, a free block
    assert not model.is_head(blk(5) + 4) and not model.is_head(POOL - 16)


def test_the_chain_runs_from_the_root_to_the_target():
    model = _sample()
    reached = model.reach([("stack top-0x10", 12345), ("stack top-0x0c", blk(0))])
    assert model.chain(reached, blk(6)) == [
        (None, "stack top-0x0c", blk(0)), (blk(0), 4, blk(2)), (blk(2), 24, blk(6))]


def test_marks_referrers_and_a_report_against_the_collectors_marks():
    model = _sample(marked=(0, 2, 6, 8))
    assert model.marked() == {blk(0), blk(2), blk(6), blk(8)}
    assert model.referrers(blk(6)) == [(blk(2), 24)]
    assert model.referrers(blk(5)) == []  # only an interior pointer, blk(5)+4, is held
    lines = []
    heap_model.report(model, [("roots", [("r0", blk(0))]), ("other", [("r1", blk(8))])],
                   [(blk(6), "C"), (blk(5), "D")], lambda p: "obj", lambda q: None,
                   out=lines.append)
    text = "\n".join(lines)
    assert "reaches 4 blocks, the collector marked 4 (marked, not reached: 0;" in text, text
    assert "== %#x C: obj, marked True" % blk(6) in text
    assert " from roots:" in text and " from other:" not in text
    assert "== %#x D: obj, marked False" % blk(5) in text


def test_a_map_tables_value_is_named_by_its_qstr_key():
    # REPR_A: a qstr object is (q << 3) | 2; a map table is (key, value) pairs
    model = _heap({0: AT_HEAD, 1: AT_HEAD}, {blk(0): (77 << 3) | 2, blk(0) + 4: blk(1)})
    assert heap_model.slot_name(model, blk(0), 4, {77: "_ctx"}.get) == "['_ctx']"
    assert heap_model.slot_name(model, blk(0), 0, {77: "_ctx"}.get) == "+0"
    assert heap_model.slot_name(model, blk(0), 4, {}.get) == "+4"


def test_a_free_block_never_counts():
    model = _heap({0: AT_FREE, 1: AT_HEAD}, {blk(1): blk(0)})
    assert model.reach([("r", blk(1))]) == {blk(1): (None, "r")}
