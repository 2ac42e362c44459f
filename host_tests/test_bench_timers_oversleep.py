# shimeji: host-only (bench/timers_oversleep.py: the real clock, the unix port's asyncio)
# The timers workload's lateness probe (docs/benchmarks.md, "Timers, round nineteen" and
# "Lateness tails, session 21") records every sleep and every idle of its tickless run, its
# sleeps are never early, and its split of a late sleep's lateness adds up to that lateness.
import sys

from support import micropython_only


def _bench():
    here = __file__.replace("\\", "/")
    root = here.rsplit("/", 2)[0] if "/" in here else ".."
    if root + "/bench" not in sys.path:
        sys.path.insert(0, root + "/bench")


@micropython_only
def test_the_probe_records_every_sleep_and_idle_and_no_sleep_ends_early():
    _bench()
    import timers_oversleep as probe

    p = probe.run_tickless()
    assert p.n == probe.TASKS * probe.SLEEPS
    assert min(p.late[:p.n]) >= 0  # never early
    assert 0 < p.idles <= probe.MAX_IDLES
    assert min(p.over[:p.idles]) >= 0  # an idle sleeps at least what it asked for
    assert all(p.woke[j] - p.due[j] == p.late[j] for j in range(p.n))
    a = probe.run_asyncio()
    assert a.n == probe.TASKS * probe.SLEEPS and a.idles > 0


@micropython_only
def test_the_split_of_a_late_sleep_adds_up_to_its_lateness():
    _bench()
    import timers_oversleep as probe

    p = probe.run_tickless()
    for j in range(p.n):
        parts = p.split(j)
        assert min(parts) >= 0
        assert sum(parts) == p.late[j]
    f = p.figures("tickless")
    assert f["top"] == p.n // 100 and sum(f["blame"]) in (99, 100, 101)
    assert f["late"][0] <= f["late"][1] <= f["late"][2] <= f["late"][3]
    assert f["cpu_ns"] > 0
