# shimeji: host-only (bench/'s design studies, from the checkout's bench/: viper, the unix port)
# The historical prototypes in bench/ (proto_*.py: the timer rounds seven and eight, the viper
# poll of round fourteen, the viper spawn of round fifteen) are not the runtime, but
# docs/benchmarks.md cites their figures and tools/instr.py runs them ("... prototype"
# workloads): each still runs to its end and does what its workload counts.
import sys

from support import micropython_only

N = 400


def _bench():
    here = __file__.replace("\\", "/")
    root = here.rsplit("/", 2)[0] if "/" in here else ".."
    if root + "/bench" not in sys.path:
        sys.path.insert(0, root + "/bench")


@micropython_only
def test_the_timer_prototypes_fire_at_least_the_timers_asked_for():
    _bench()
    import proto_flat_duties
    import proto_flat_sleep
    import proto_wheel_duties
    import proto_wheel_words

    fired = [m.run(N) for m in (proto_flat_sleep, proto_wheel_words, proto_flat_duties,
                                proto_wheel_duties)]
    # (their loops stop at a check that overshoots N: the same count for all four)
    assert fired[0] >= N and fired == [fired[0]] * 4, fired


@micropython_only
def test_the_poll_prototype_ends_every_task_it_should_in_both_modes():
    _bench()
    import proto_viper_poll

    for mode in ("native", "viper"):
        assert proto_viper_poll.run("end", mode, N) == N, mode  # each poll ends its task
        assert proto_viper_poll.run("yield", mode, N) == 0, mode  # none ends


@micropython_only
def test_the_spawn_prototype_runs_every_mode_instr_measures():
    _bench()
    import proto_viper_spawn

    modes = ("native", "viper", "viper2", "vipergen", "wnative", "wviper")
    assert [proto_viper_spawn.run(m, N) for m in modes] == [None] * len(modes)
