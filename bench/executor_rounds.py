"""The executor bench's parts that are not the executor (bench_executor.py): CPU time and
the load from /proc, a critical section that counts its lock's acquisitions, the bare
generators that give the machine's own 2-thread ceiling, and the per-round notes."""

from benchlib import ns_since, start, ticks_diff, ticks_us


def cpu_ticks():
    """utime + stime of this process in clock ticks (1/100 s), or None without /proc."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().split(")")[-1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


class CountingSection:
    """The runtime's lock section, counting the acquisitions of the lock itself."""

    irq_direct = False  # not a board's IRQ mask: schedulers call enter/exit (sync/critical.py)

    def __init__(self):
        from shimeji.sync.locksection import LockCriticalSection

        self.inner = LockCriticalSection()
        self.count = 0

    def enter(self):
        state = self.inner.enter()
        if self.inner._nested == 0:
            self.count += 1  # under the lock: no lost increments
        return state

    def exit(self, state):
        self.inner.exit(state)

    def try_enter(self):
        return self.enter()

    def held(self):
        return self.inner.held()


def bare_generator(chunks):
    """``compute()``'s chunk as a plain generator: the machine's own figure, no executor."""
    s = 0
    for k in range(chunks):
        for j in range(40):
            s += j ^ k
        yield s


def bare_half(gens, ends, i, done, chunks):
    for _ in range(chunks):  # (each generator yields ``chunks`` times: no StopIteration)
        for g in gens:
            next(g)
    ends[i] = ticks_us()
    if done is not None:
        done.release()


def bare_throughput(threads, tasks, chunks):
    """``bare_run``'s ns per chunk and the process's CPU use over it (None without /proc)."""
    c0 = cpu_ticks()
    t0 = start()
    ns = bare_run(threads, tasks, chunks)
    wall = ns_since(t0)
    c1 = cpu_ticks()
    return ns, (c1 - c0) * 10000000 / wall if c0 is not None and wall else None


def bare_run(threads, tasks, chunks):
    """ns per chunk of ``tasks`` plain generators of ``chunks`` chunks resumed in turn by
    ``next``, on ``threads`` threads (the calling one and one more), tasks / threads each,
    timed as bench_executor's ``throughput``
    (from before the thread starts to the last generator's end). What two threads of this VM
    give on this machine at this moment: the ceiling for the executor's 2-over-1."""
    import _thread

    gens = [bare_generator(chunks) for _ in range(tasks)]
    ends = [0, 0]
    done = _thread.allocate_lock()
    done.acquire()
    half = tasks // threads
    t0 = start()
    if threads == 2:
        _thread.start_new_thread(bare_half, (gens[half:], ends, 1, done, chunks))
    bare_half(gens[:half], ends, 0, None, chunks)
    if threads == 2:
        done.acquire()  # released by the other thread at its end
        if ticks_diff(ends[1], ends[0]) > 0:
            ends[0] = ends[1]
    return ticks_diff(ends[0], t0) * 1000 // (tasks * chunks)


def round_notes(rounds):
    """Per round: the executor's 2 over 1 / the bare generators' 2 over 1 (CPU use of each
    2-thread run, x100); the executor's 4 over 2 (sleeps in the 4-worker run)."""
    two = []
    four = []
    for r in rounds:
        use = r["use 2"]
        bare_use = r["bare use 2"]
        two.append("%.2f/%.2f%s" % (r[1] / r[2], r["bare 1"] / r["bare 2"], "" if use is None
                                    else " (%d/%d)" % (use * 100, (bare_use or 0) * 100)))
        four.append("%.2f (%d sleeps)" % (r[4] / r[2], r["slept 4"]))
    return ", ".join(two), ", ".join(four)
