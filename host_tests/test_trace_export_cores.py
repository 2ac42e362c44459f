# shimeji: cpython-only (tools/trace.py is a host tool: it runs on CPython, writes JSON and
# draws with matplotlib)
"""tools/trace.py on runs of more than one core or level: a process per core with steal and
cross-core wake arrows, the interrupt level a process of its own with its preemptions as
slices, a real executor's run, a stolen task's track per core, and a two-worker run recorded
on MicroPython (its JSON checked against the format's schema, as in test_trace_export.py)."""

import io
import os
import subprocess
import sys

import pytest

from shimeji import Event, Trace, yield_now
from shimeji.trace import kinds as K
from traceformat import ROOT, check_schema, png_size, tool


def test_cores_get_a_process_each_with_steal_and_cross_core_wake_arrows(tmp_path):
    from test_trace_cores import two_cores

    d0, d1, _, _, ids = two_cores()
    obj = tool.chrome_trace(tool.parse(d0 + d1))
    check_schema(obj)
    evs = obj["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in evs if e["name"] == "process_name"}
    assert procs == {1: "core 0", 2: "core 1"}
    threads = {(e["pid"], e["args"]["name"]) for e in evs if e["name"] == "thread_name"}
    assert {(1, "1 producer"), (2, "1 consumer"), (2, "2 stolen")} <= threads
    polls = sorted((e["pid"], e["tid"], e["ts"], e["dur"]) for e in evs if e["name"] == "poll")
    c, s, p = ids["consumer"], ids["stolen"], ids["producer"]
    assert polls == [(1, p, 10, 120), (1, p, 260, 50), (2, c, 140, 30), (2, c, 190, 30),
                     (2, s, 220, 40)]  # one time base: both cores' µs since the first record
    flows = {}
    for e in evs:
        if e["ph"] in "sf":
            flows.setdefault(e["id"], []).append((e["ph"], e["pid"], e["tid"], e["ts"]))
    assert sorted(flows.values()) == [
        # the steal: from core 0's scheduler track to the stolen task's first poll on core 1
        [("s", 1, 0, 180), ("f", 2, s, 220)],
        # the wake: from the producer's poll on core 0, to the consumer's next poll on core 1
        [("s", 1, p, 110), ("f", 2, c, 140)],
    ]
    anchors = [(e["pid"], e["tid"], e["ts"], e["name"]) for e in evs if e.get("cat") == "flow"]
    assert anchors == [(1, 0, 180, "stolen: 2 stolen")]
    instants = sorted((e["pid"], e["tid"], e["name"], e["args"].get("from")) for e in evs
                      if e["ph"] == "i" and e["name"] in ("wake", "steal"))
    assert instants == [(2, c, "wake", "core 0"), (2, s, "steal", "core 0")]
    path = str(tmp_path / "cores.png")
    tool.timeline_png(tool.parse(d0 + d1), path, width=800, height=500)
    assert png_size(path) == (800, 500)


def test_the_interrupt_level_is_its_own_process_and_preemptions_are_slices():
    from test_trace_interrupt import preempted_run

    ti, tt, u, h = preempted_run()
    a, b = io.StringIO(), io.StringIO()
    tt.dump(a)
    ti.dump(b)
    obj = tool.chrome_trace(tool.parse(a.getvalue() + b.getvalue()))
    check_schema(obj)
    evs = obj["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in evs if e["name"] == "process_name"}
    assert procs == {1: "scheduler 0", 2: "interrupt level 1"}
    polls = sorted((e["pid"], e["tid"], e["ts"], e["dur"]) for e in evs if e["name"] == "poll")
    assert polls == [(1, h, 10, 240), (2, u, 0, 0), (2, u, 110, 40)]
    held = [(e["pid"], e["tid"], e["ts"], e["dur"]) for e in evs if e.get("cat") == "irq"
            and e["ph"] == "X"]
    assert held == [(1, h, 110, 40)]  # inside the hog's poll: the level's 40 µs
    arrows = [(e["ph"], e["pid"], e["tid"], e["ts"]) for e in evs if e.get("name") == "preempt"]
    assert arrows == [("s", 1, h, 110), ("f", 2, u, 110)]
    wakes = [(e["pid"], e["tid"], e["ts"], e["args"]["from"]) for e in evs
             if e["ph"] == "i" and e["name"] == "wake"]
    assert wakes == [(2, u, 110, "interrupt/thread")]


def test_a_real_executor_run_exports_a_core_each_with_its_steals_and_cross_core_wakes():
    # End to end: two workers on two threads, each traced, dumped with core=N and converted.
    from shimeji import Executor

    ex = Executor(workers=2, capacity=48)
    w0, w1 = ex.workers
    traces = [Trace(4096, side=128).attach(w0), Trace(4096, side=128).attach(w1)]
    ev = Event()
    ids = {}

    async def child():
        for _ in range(30):
            await yield_now()

    async def waiter():
        await ev.wait()

    async def main():
        hw = w1.spawn(waiter())
        ids["waiter"] = hw.id
        for _ in range(2000000):
            if w1._request is None and w0._request is not None or w1.sleeping:
                break
            await yield_now()
        hs = [ex.spawn(child()) for _ in range(40)]  # all on worker 0: worker 1 steals
        for h in hs:
            await h
        ev.set()  # from worker 0's thread: a cross-core wake of the waiter on worker 1
        await hw

    ex.run(main())
    assert w1.stolen > 0
    text = io.StringIO()
    for i, t in enumerate(traces):
        t.dump(text, core=i)
    sections = tool.parse(text.getvalue())
    obj = tool.chrome_trace(sections)
    check_schema(obj)
    evs = obj["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in evs if e["name"] == "process_name"}
    assert sorted(procs.values()) == ["core 0", "core 1"]
    pid = {name: p for p, name in procs.items()}
    recs = [t.records() for t in traces]
    for i, r in enumerate(recs):  # every recorded poll is a slice on its core's process
        begins = sum(1 for x in r if x[1] == K.POLL_BEGIN)
        slices = sum(1 for e in evs if e["name"] == "poll" and e["pid"] == pid["core %d" % i])
        assert slices == begins > 0, i
    for i, w in enumerate(ex.workers):  # each steal is an instant on the thief's core
        steals = [e for e in evs if e["ph"] == "i" and e["name"] == "steal"
                  and e["pid"] == pid["core %d" % i]]
        assert len(steals) == w.stolen, i
    flows = {}
    for e in evs:
        if e["ph"] in "sf":
            flows.setdefault(e["id"], {})[e["ph"]] = (e["pid"], e["tid"])
    # the event's wake: from a poll on core 0 to the waiter's next poll on core 1
    woke = [f for f in flows.values() if f["s"][0] == pid["core 0"]
            and f["f"] == (pid["core 1"], ids["waiter"])]
    assert len(woke) == 1


def _one_track_per_task_and_core(text, ids):
    # ``ids``: task id -> name of every task of test_executor_task_ids' run (worker 1's own
    # waiters and worker 0's children, some stolen by worker 1).
    obj = tool.chrome_trace(tool.parse(text))
    check_schema(obj)
    evs = obj["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in evs if e["name"] == "process_name"}
    pid = {name: p for p, name in procs.items()}
    tracks = {}  # tid -> {pid: track name}
    for e in evs:
        if e["name"] == "thread_name" and e["tid"]:
            assert e["pid"] not in tracks.get(e["tid"], {}), e  # one track per task and core
            tracks.setdefault(e["tid"], {})[e["pid"]] = e["args"]["name"]
    assert set(ids) <= set(tracks)
    for tid, by_pid in tracks.items():  # a task's tracks on every core: its id and name
        if tid in ids:  # (or "task N" where the ring's name table forgot the name)
            assert len(set(by_pid.values())) == 1, by_pid
            assert set(by_pid.values()) <= {"%d %s" % (tid, ids[tid]), "task %d" % tid}
        else:  # run()'s main task
            assert list(by_pid) == [pid["core 0"]] and tid == 1, (tid, by_pid)
    stolen = {e["tid"] for e in evs if e["ph"] == "i" and e["name"] == "steal"
              and e["pid"] == pid["core 1"]}
    own = {tid for tid, name in ids.items() if name.startswith("own")}
    assert stolen and not stolen & own
    polled = {(e["pid"], e["tid"]) for e in evs if e["name"] == "poll"}
    for tid in stolen:  # a stolen child ran on the thief. (On core 0 too only if it was polled
        # before the steal, which a task stolen from the queue never was, and if core 0's ring,
        # which overflows in this run, kept those polls: not asserted.)
        assert (pid["core 1"], tid) in polled, tid
    for tid in own:  # worker 1's own tasks ran there only
        assert (pid["core 1"], tid) in polled and (pid["core 0"], tid) not in polled, tid
    return stolen


def test_a_stolen_task_has_a_track_per_core_and_shares_no_id_with_the_thiefs_tasks():
    from test_executor_task_ids import stolen_while_the_thief_has_tasks

    ex, traces, own, children = stolen_while_the_thief_has_tasks(traced=True)
    text = io.StringIO()
    for i, t in enumerate(traces):
        t.dump(text, core=i)
    ids = {h.id: h.name for h in own + children}
    assert len(_one_track_per_task_and_core(text.getvalue(), ids)) == ex.workers[1].stolen


_MP_RUN = """
import sys
from test_executor_task_ids import stolen_while_the_thief_has_tasks
ex, traces, own, children = stolen_while_the_thief_has_tasks(traced=True)
for h in own + children:
    print("task", h.id, h.name)
print("stolen", ex.workers[1].stolen)
for i, t in enumerate(traces):
    t.dump(sys.stdout, core=i)
"""


def test_a_two_worker_run_recorded_on_micropython_exports_one_track_per_task_and_core():
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        pytest.skip("no micropython in the venv (make test installs it)")
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        [".frozen", os.path.join(ROOT, "firmware"), os.path.join(ROOT, "host_tests")]))
    out = subprocess.run([mp, "-X", "heapsize=8M", "-c", _MP_RUN], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    ids = {}
    stolen = 0
    for line in out.stdout.splitlines():
        if line.startswith("task "):
            _, tid, name = line.split()
            ids[int(tid)] = name
        elif line.startswith("stolen "):
            stolen = int(line.split()[1])
    assert len(_one_track_per_task_and_core(out.stdout, ids)) == stolen
