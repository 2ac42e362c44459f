# shimeji: cpython-only (tools/timers_tail.py is a host tool: subprocess, argparse, json)
# tools/timers_tail.py reads saved rounds of bench/timers_oversleep.py: bench_timers' p99, the
# goal judged with k rounds pooled, and the rounds in which an idle overslept past 1 ms.
import timers_tail


def _rec(rt, lates, over_max=100, load=1.0):
    s = sorted(lates)
    q = [s[len(s) * p // 100] for p in (50, 90, 99)] + [s[-1]]
    return {"rt": rt, "load": load, "late": q, "idles": 10, "over": [80, 90, over_max],
            "busy": [50, 60], "blame": [90, 0, 10, 0], "pos": 3, "lates": lates}


def test_p99_is_bench_timers_percentile():
    assert timers_tail.p99(list(range(200))) == 198
    assert timers_tail.p99([5]) == 5


def test_the_goal_pooled_over_rounds():
    calm = [100] * 990 + [200] * 10  # p99 200
    stall = [100] * 950 + [5000] * 50  # p99 5000
    asy = [500] * 990 + [1000] * 10  # p99 1000
    rounds = timers_tail.pairs([_rec("tickless", calm), _rec("asyncio", asy),
                                _rec("tickless", stall, 6000), _rec("asyncio", asy)])
    assert timers_tail.pooled_goal(rounds, 1) == (1, 2)  # the stalled round misses
    # pooled, the stall's 50 of 2,000 samples still pass 1 %: p99 5000, missed
    assert timers_tail.pooled_goal(rounds, 2) == (0, 1)


def test_the_summary_counts_the_stalled_rounds(capsys):
    calm = [100] * 990 + [200] * 10
    asy = [500] * 1000
    records = [_rec("tickless", calm), _rec("asyncio", asy),
               _rec("tickless", calm, 4000), _rec("asyncio", asy)]
    rounds = timers_tail.pairs(records)
    timers_tail.table(rounds)
    timers_tail.summary(rounds)
    out = capsys.readouterr().out
    assert "| 1 | 1.0 | 100 / 100 / 200 / 200 | 500 / 500 / 500 / 500 | 0.40 met |" in out
    assert "tickless: an idle overslept > 1000 µs in 1 of 2 rounds" in out
    assert "asyncio: an idle overslept > 1000 µs in 0 of 2 rounds (p99 none)" in out
    assert "goal with 2 rounds pooled: met 1 of 1" in out
