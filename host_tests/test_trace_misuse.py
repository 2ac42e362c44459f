# Misuse of the trace API beyond test_trace_ring's: what attach, dump, name_of and top() are
# given, and top() or detach() from a task. Each raises a ShimejiError subclass naming the
# argument and what to do; afterwards the same Trace still records and exports every record.
import io

from shimeji import (
    SchedulerBusy,
    ShimejiError,
    StaticScheduler,
    Trace,
    TraceError,
    yield_now,
)
from shimeji.trace import kinds as K
from shimeji.trace.table import top
from support import raises


class _Clock:
    def __init__(self):
        self.t = 1000

    def __call__(self):
        self.t += 10
        return self.t


def _marks(tr):
    return [r[3] for r in tr.records() if r[1] == K.MARK]


def test_arguments_of_trace_attach_dump_and_name_of():
    cases = ((lambda: Trace(16, clock_us=5), "Trace(clock_us=5): give a function"),
             (lambda: Trace(16).attach(None), "attach(sched): give a StaticScheduler"),
             (lambda: Trace(16).attach("sched"), "got 'sched'"))
    for call, words in cases:
        with raises(TraceError, words):
            call()
    s = StaticScheduler(4)
    tr = Trace(16, clock_us=_Clock()).attach(s)
    tr.mark(1)
    for kw, words in (({"stream": 5}, "dump(stream): give an object with write()"),
                      ({"core": "0"}, "dump(core='0'): give the executor worker's number")):
        with raises(TraceError, words) as r:
            tr.dump(**kw)
        assert isinstance(r.value, ShimejiError)
    with raises(TraceError, "name_of(task_id): give a task id"):
        tr.name_of(None)
    tr.mark(2)  # the trace still records, and exports everything
    out = io.StringIO()
    tr.dump(out, core=0)
    lines = out.getvalue().split("\n")
    assert lines[0].startswith("shimeji-trace 1 size=16 count=2 dropped=0 label=scheduler")
    assert lines[0].endswith(" core=0")
    assert _marks(tr) == [1, 2]


def test_top_arguments_and_top_or_detach_from_a_task():
    s = StaticScheduler(4)
    tr = Trace(32, clock_us=_Clock()).attach(s)
    for kw, words in (({"interval_ms": 0}, "top(interval_ms=0): give an int of at least 1"),
                      ({"interval_ms": 1.5}, "top(interval_ms=1.5)"),
                      ({"interval_ms": None}, "top(interval_ms=None)"),
                      ({"count": 0}, "top(count=0): give an int of at least 1, or None"),
                      ({"count": "3"}, "top(count='3')")):
        with raises(TraceError, words):
            top(s, out=lambda line: None, **kw)
    seen = []

    async def inside():
        with raises(TraceError, "top() from a task would stop the scheduler"):
            top(s, count=1, out=seen.append)
        with raises(SchedulerBusy, "Trace.detach() from a task of the scheduler it traces"):
            tr.detach()
        with raises(SchedulerBusy, "Trace.attach() from a task"):
            tr.attach(s)  # (attaching again is fine, but not from its own task)
        tr.mark(7)
        await yield_now()
        return "done"

    h = s.spawn(inside())
    for _ in range(4):
        s.tick()
    assert h.result() == "done" and seen == []  # nothing printed from inside the task
    assert tr.sched is s and _marks(tr) == [7]  # still attached, still recording
    lines = []
    top(s, interval_ms=1, count=1, clear=False, out=lines.append)
    assert lines[0].startswith("shimeji top: 0 tasks, 1 spawned, 0 failed")
    tr.detach()
    tr.detach()  # a second detach is a no-op
    assert tr.attach(s) is tr  # and it attaches again
