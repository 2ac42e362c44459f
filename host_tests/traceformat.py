# shimeji: cpython-only (tools/trace.py is a host tool: the trace export tests' helpers)
"""What the trace export tests share: tools/trace.py (``tool``), the trace-event format's
schema check (``check_schema``) and a PNG's size (``png_size``)."""

import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import trace as tool  # noqa: E402, F401  (tools/trace.py)

# The trace-event format (Chrome's "Trace Event Format" document, as Perfetto reads it): the
# fields each phase needs, and their types.
NUM = (int, float)
PHASES = {
    "X": {"name": str, "pid": int, "tid": int, "ts": NUM, "dur": NUM},
    "i": {"name": str, "pid": int, "tid": int, "ts": NUM, "s": str},
    "C": {"name": str, "pid": int, "ts": NUM, "args": dict},
    "M": {"name": str, "pid": int, "args": dict},
    "s": {"name": str, "pid": int, "tid": int, "ts": NUM, "id": int},
    "f": {"name": str, "pid": int, "tid": int, "ts": NUM, "id": int, "bp": str},
}
METADATA = {"process_name", "thread_name", "thread_sort_index", "process_sort_index"}


def check_schema(obj):
    """Raise AssertionError unless ``obj`` is a valid JSON-object-format trace."""
    assert isinstance(obj, dict) and isinstance(obj["traceEvents"], list)
    assert obj.get("displayTimeUnit", "ms") in ("ms", "ns")
    flows = {}
    for e in obj["traceEvents"]:
        need = PHASES.get(e.get("ph"))
        assert need is not None, "unknown phase in %r" % e
        for key, typ in need.items():
            assert isinstance(e.get(key), typ), "%r: %s must be %s" % (e, key, typ)
        if e["ph"] in "XiCsf":
            assert e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0
        if e["ph"] == "i":
            assert e["s"] in ("g", "p", "t")
        if e["ph"] == "C":
            assert all(isinstance(v, NUM) and v >= 0 for v in e["args"].values())
        if e["ph"] == "M":
            assert e["name"] in METADATA
        if e["ph"] == "f":
            assert e["bp"] == "e"
        if e["ph"] in "sf":
            flows.setdefault(e["id"], []).append(e)
    for fid, pair in flows.items():  # every arrow has one start and one end, in time order
        assert [p["ph"] for p in pair] == ["s", "f"], fid
        assert pair[0]["ts"] <= pair[1]["ts"]
    json.dumps(obj)  # serialisable as it is


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])
