# shimeji: host-only (bench/timers_oversleep.py: the real clock, the unix port's asyncio)
# The timers workload's lateness probe (docs/benchmarks.md, "Timers, round nineteen") records
# every sleep and every idle of its tickless run, and its sleeps are never early.
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
    a = probe.run_asyncio()
    assert a.n == probe.TASKS * probe.SLEEPS and a.idles > 0
