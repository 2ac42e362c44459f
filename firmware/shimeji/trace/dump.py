"""``Trace.dump``: the ring as hex lines, what ``tools/trace.py`` reads.

The format: a header line ``shimeji-trace 1 size=N count=N dropped=N label=NAME`` (and
``core=N`` for an executor's worker), ``N id name`` lines naming the tasks, one record a line
(``ts kind task arg``, hex), and ``end``. Readable over a REPL, one line at a time.
"""

from ..errors import TraceError


def dump(trace, stream=None, label=None, core=None):
    """Write ``trace``'s ring to ``stream`` (default: print). See ``Trace.dump``."""
    if stream is not None and not hasattr(stream, "write"):
        raise TraceError("dump(stream): give an object with write() (a file opened for "
                         "writing, sys.stdout) or None to print, got %r" % (stream,))
    if core is not None and type(core) is not int:
        raise TraceError("dump(core=%r): give the executor worker's number (an int) or None"
                         % (core,))
    if label is None:
        label = trace.label
    write = print if stream is None else _line_writer(stream)
    recs = trace.records()
    extra = "" if core is None else " core=%d" % core
    write("shimeji-trace 1 size=%d count=%d dropped=%d label=%s%s" % (
        trace.size, len(recs), trace.dropped, _clean(label).replace(" ", "_"), extra))
    seen = {}
    for r in recs:
        if r[2] and r[2] not in seen:
            seen[r[2]] = 1
            name = trace.name_of(r[2])
            if name is not None:
                write("N %x %s" % (r[2], _clean(name)))
    for ts, kind, task, arg in recs:
        write("%x %x %x %x" % (ts, kind, task, arg))
    write("end")


def _line_writer(stream):
    def write(line):
        stream.write(line)
        stream.write("\n")

    return write


def _clean(name):
    s = str(name)
    return s.replace("\n", " ").replace("\r", " ")
