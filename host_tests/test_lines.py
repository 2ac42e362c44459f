"""What every executor worker reads at every task switch owns its cache lines
(``shimeji/lines.py``; docs/executor.md, "Cache lines of their own").

On the unix port each object is checked by its addresses (``id`` and ``uctypes``): its
allocations fill consecutive GC blocks from a 64-byte line's start, and end on a line's end
or at its guard block. Elsewhere (CPython, boards) ``isolated`` only makes the object."""

import sys

from shimeji import lines, port, yielding
from support import micropython_only

ON_HOST = port.IS_MICROPYTHON and sys.platform in ("linux", "darwin")


def _owns_its_lines(obj, extents, guard):
    start, end = lines._run(extents(obj))
    return start % lines.LINE == 0 and (end % lines.LINE == 0 or id(guard) == end)


def test_elsewhere_isolated_only_makes_the_object():
    if ON_HOST:
        assert lines._ACTIVE  # (the host case: the tests below)
        return
    obj, guard = lines.isolated(list, None)  # (extents are never read there)
    assert obj == [] and guard is None


@micropython_only  # id() is an address there
def test_the_shared_yield_objects_own_their_lines():
    if not ON_HOST:
        return  # (a board: nothing placed, nothing to check)
    assert yielding._rings_guard is not None and yielding._rings_get_guard is not None
    assert _owns_its_lines(yielding._rings, lines.dict_extents, yielding._rings_guard)
    assert _owns_its_lines(yielding._rings_get, lines.one_block, yielding._rings_get_guard)
    assert yielding._rings_get == yielding._rings.get  # the same bound method yield_now calls
    assert yielding._threaded_guard is not None
    assert _owns_its_lines(yielding._threaded, lines.list_extents, yielding._threaded_guard)


def _placed_lists(shift):
    held = [object() for _ in range(shift)]  # every alignment, every neighbour before
    return held, lines.isolated(list, lines.list_extents)


@micropython_only
def test_a_placed_object_owns_its_lines_whatever_was_allocated_before():
    if not ON_HOST:
        return
    for shift in range(8):
        held, (obj, guard) = _placed_lists(shift)
        assert guard is not None and _owns_its_lines(obj, lines.list_extents, guard), shift
        obj.extend((1, 2, 3))  # a working list
        assert obj == [1, 2, 3]
