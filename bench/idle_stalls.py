"""What a late idle is made of, on Linux: many short sleeps, and for each one that overslept past
``STALL_US`` whether the thread waited for a CPU or the wake itself came late.

The tickless loop's p99 lateness on this shared host is set by a few idles the kernel ends
milliseconds late (docs/benchmarks.md, "Lateness tails, session 21"). This probe sleeps
``us`` µs ``n`` times (``time.sleep_us``, the unix port's idle) and reads the thread's
``/proc/thread-self/schedstat`` (ns on a CPU, ns waiting on a run queue) before each sleep and
after any that overslept past ``STALL_US``, and sorts those stalls into:

- ``queued``: the run-queue wait grew by at least half the oversleep: the timer woke the
  thread on time and it waited for a CPU that another task held (a busy host; on this kernel
  a woken task may wait out the running one's slice, even at a higher priority);
- ``late wake``: it did not: the wake itself came late (the timer interrupt delayed, or the
  virtual CPU not running on the host: steal), nothing a process can change.

Not part of ``make bench`` (a diagnosis, not a goal's figure); the file reads add ~10-20 µs
to each round of the loop (they are not in the sleeps timed). MicroPython's unix port or
CPython, on Linux:

    .venv/bin/micropython -X heapsize=32M bench/idle_stalls.py [n] [us] [json]
"""

import sys
import time

STALL_US = 500
SCHEDSTAT = "/proc/thread-self/schedstat"

if sys.implementation.name == "micropython":
    ticks_us, ticks_diff, sleep_us = time.ticks_us, time.ticks_diff, time.sleep_us
else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_us(us):
        time.sleep(us / 1e6)


def schedstat():
    """(ns on a CPU, ns waiting on a run queue) of this thread."""
    with open(SCHEDSTAT) as f:
        fields = f.read().split()
    return int(fields[0]), int(fields[1])


def classify(over_us, queued_ns):
    """``queued`` if the thread's run-queue wait grew by at least half the oversleep, else
    ``late wake``."""
    return "queued" if queued_ns // 1000 * 2 >= over_us else "late wake"


def probe(n=20000, us=50):
    """Sleep ``us`` µs ``n`` times; returns the stalls as (oversleep µs, run-queue µs, on-CPU
    µs, kind), worst last, and the oversleeps' p50 and p99."""
    stalls = []
    overs = []
    for _ in range(n):
        r0 = schedstat()
        t0 = ticks_us()
        sleep_us(us)
        over = ticks_diff(ticks_us(), t0) - us
        overs.append(over)
        if over > STALL_US:
            r1 = schedstat()
            queued = r1[1] - r0[1]
            stalls.append((over, queued // 1000, (r1[0] - r0[0]) // 1000,
                           classify(over, queued)))
    stalls.sort()
    overs.sort()
    return stalls, overs[len(overs) // 2], overs[len(overs) * 99 // 100]


def summary(stalls, n, p50, p99, load=-1.0):
    kinds = {"queued": [0, 0], "late wake": [0, 0]}
    for s in stalls:
        kinds[s[3]][0] += 1
        kinds[s[3]][1] += s[0]
    return {"sleeps": n, "load": load, "oversleep_p50": p50, "oversleep_p99": p99,
            "stalls": len(stalls), "queued": kinds["queued"], "late_wake": kinds["late wake"],
            "worst": [list(s) for s in stalls[-8:]]}


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return -1.0


def main(argv):
    n = int(argv[1]) if len(argv) > 1 else 20000
    us = int(argv[2]) if len(argv) > 2 else 50
    load = load_average()
    stalls, p50, p99 = probe(n, us)
    f = summary(stalls, n, p50, p99, load)
    if "json" in argv:
        import json

        print("STALLS " + json.dumps(f))
        return
    print("%d sleeps of %d µs, load %.2f: oversleep p50 %d p99 %d µs; %d past %d µs: queued %d "
          "(%d µs in all), late wake %d (%d µs)" % (
              n, us, load, p50, p99, len(stalls), STALL_US, f["queued"][0], f["queued"][1],
              f["late_wake"][0], f["late_wake"][1]))
    for s in stalls[-8:]:
        print("  overslept %d µs: waited for a CPU %d µs, on a CPU %d µs: %s" % tuple(s))


if __name__ == "__main__":
    main(sys.argv)
