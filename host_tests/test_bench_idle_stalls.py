# shimeji: host-only (bench/idle_stalls.py: Linux's /proc/thread-self/schedstat, the real clock)
# The stall probe (docs/benchmarks.md, "Session 23: lateness"): a stall whose run-queue wait
# covers at least half its oversleep waited for a CPU, any other is a late wake; the probe
# times every sleep and classifies each stall by the thread's schedstat.
import sys


def _bench():
    here = __file__.replace("\\", "/")
    root = here.rsplit("/", 2)[0] if "/" in here else ".."
    if root + "/bench" not in sys.path:
        sys.path.insert(0, root + "/bench")
    import idle_stalls

    return idle_stalls


def test_a_stall_is_queued_when_the_run_queue_wait_covers_half_of_it():
    probe = _bench()
    assert probe.classify(1000, 500000) == "queued"
    assert probe.classify(1000, 2000000) == "queued"
    assert probe.classify(1000, 499000) == "late wake"
    assert probe.classify(3000, 0) == "late wake"


def test_the_probe_times_every_sleep_and_sorts_its_stalls():
    probe = _bench()
    try:
        probe.schedstat()
    except OSError:
        return  # not Linux: nothing to read (the probe is a Linux diagnosis)
    stalls, p50, p99 = probe.probe(200, 50)
    assert 0 <= p50 <= p99  # a sleep lasts at least what it asked for
    assert [s[0] for s in stalls] == sorted(s[0] for s in stalls)
    assert all(s[0] > probe.STALL_US and s[3] == probe.classify(s[0], s[1] * 1000)
               for s in stalls)
    f = probe.summary(stalls, 200, p50, p99)
    assert f["stalls"] == len(stalls) == f["queued"][0] + f["late_wake"][0]
