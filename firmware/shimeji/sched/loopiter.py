"""``step`` and ``iterate``: ``RunLoop.step()`` and ``RunLoop.run()``'s loop (runloop.py), in
native code.

``step`` is one iteration: the zero poll of the I/O poller, the tick, the turn, and the idle
until the next deadline if nothing is runnable (``RunLoop.step``'s docstring). ``iterate`` is
``step()`` with the calls of the common case written in line: the zero poll (skipped right
after an idle that polled), the tick (``tick_fifo`` itself for a FIFO scheduler outside any
task), the timer's turn, and the idle (in the poller while tasks wait for I/O). Kept apart
from runloop.py, which composes the steps and the loop's API, for its length only.
"""

import sys

import micropython
from micropython import const

from .. import core
from ..time.timerturn import fire, peek
from ..time.timerturn import turn as _timer_turn
from .wordtick import tick_fifo, tick_lean  # (viper over the words; fastpath's on rp2)

if sys.platform == "rp2":  # leanloop's run_lean is None there: its code (8 KB) is not loaded
    run_lean = None
else:
    from .leanloop import run_lean

_MASK = const(0x3FFFFFFF)  # the counters wrap below 2**30: small ints on 32-bit boards
_W_PENDING = const(27)  # TimerWheel._w's armed-entry count (time/wheel.py)
_TURN_EVERY = const(0x80000)  # clock units between turns with no timer armed (0.5 s in µs)
_RESUME = const(1)  # run_lean's answers (leanloop.py's RESUME and UNTIL)
_UNTIL = const(2)


@micropython.native
def iterate(loop, sched, until):
    """``loop.run()``'s loop: ``step()`` with the calls of the common case written in line,
    until ``loop.stop()`` or ``until`` completes. Not ISR-safe."""
    turn_fn = loop._turn
    tick = tick_fifo  # a local: a global lookup per iteration otherwise
    peek_fn = peek  # (the same)
    fire_fn = fire
    # IOPoller.poll, .rest and doze (io/dispatch.py), without the method look-up: taken at the
    # first idle with a task waiting for I/O (whoever made the poller loaded them), so a
    # program without I/O never loads shimeji.io (~10 KB of heap from .mpy on the RP2040)
    io_poll = rest = doze = None
    n = loop.tick_size
    # Outside any task, a FIFO scheduler's tick is tick_fifo itself (tick() only checks
    # first what cannot change during the run, and picks it).
    direct = type(n) is int and core.context.sched is None
    # until.is_complete(), in line: a live task's handle refers to its slot until the task
    # ends, and then to its outcome (three calls per iteration otherwise).
    live = None
    if until is not None and not until.is_complete():
        live = until._ref
    idle = loop._idle
    collect = loop._collect  # (both fixed at construction)
    lean = tick_lean is not None and collect is None
    if lean:  # the tick answers whether tasks remain, and fills no Tick (wordtick.py)
        tick = tick_lean
    fresh = loop._io_fresh  # the last idle polled the I/O poller: skip the next zero poll
    # The turn after a tick is skipped while no timer entry is armed at all, no interrupt
    # asked for one and no trace records turns, for at most _TURN_EVERY of the clock's
    # units: it would only carry the clock's base forward (arming counts from that base,
    # so it stays right) and answer "nothing expired, no deadline" (~5k instructions per
    # I/O wake cycle). The clock is read instead, once.
    timer = loop.timer
    ws = clock = source = kit = None
    unit = 1
    if turn_fn is not None and collect is None and hasattr(timer, "wheel"):
        ws = timer.wheel._w  # (a shimeji Timer: its wheel and clock are fixed; _w: its ints)
        clock = timer.clock
        source = clock.source
        unit = clock.unit_us
        if type(timer).turn is _timer_turn:  # its turn is timerturn's: the turn after a tick
            kit = timer._kit  # peeks first (timerturn.peek: no Turn, no call of the method)
    # Tests of what cannot change during the run, made once: in native code ``x is not
    # None`` is two runtime calls (``is``, then ``not``), so the loop tests ``is None`` only
    timed = source is not None
    peeking = kit is not None
    turning = turn_fn is not None
    collecting = collect is not None
    watching = until is not None
    live_set = live is not None
    fast = False
    # The loop and its tick as one viper function (leanloop.py), where the case is its own
    # (never an executor worker's: parallel is fixed at its making, and run_lean declines it)
    fuse = lean and peeking and run_lean is not None and (until is None or live_set) and \
        not sched.parallel
    # loop.iterations counted in a local and stored (only this loop writes it during a
    # run): one look-up fewer per iteration, between an idle's wake and the tick too
    it = loop.iterations
    idles = loop.idles  # (the same: only this loop counts them during a run)
    quiet = True  # no trace on the timer (read after each tick)
    while not loop.stopping:
        it = it + 1 if it < _MASK else 0
        loop.iterations = it
        if fresh:
            fresh = False  # (after an idle in poll: ``fast`` was decided before it)
        else:
            poller = sched.poller
            if poller is None:
                pass
            elif poller.waiters:
                poller.poll(0)
            fast = direct and sched._trace is None
            if fast and sched._fifo is None:
                fast = False
            if fast and fuse:  # (after the zero poll: its wakes are run_lean's first tick's)
                ctx = sched._ctx  # (run_lean leaves its kit for sleep_ms there between ticks)
                outer = ctx.tkit
                try:
                    code = run_lean(loop, sched, until, live)
                finally:
                    ctx.tkit = outer
                    sched._woken_timer = 0  # (its hand-offs leave the count: Tick's alone)
                it = loop.iterations
                idles = loop.idles
                if code == _UNTIL:
                    loop._io_fresh = False
                    return
                if code >= _RESUME:  # it counted an iteration: its top, here (STOPPED: ends)
                    if loop.stopping:
                        continue
                    poller = sched.poller
                    if poller is None:
                        pass
                    elif poller.waiters:
                        poller.poll(0)
                    fast = direct and sched._trace is None
                    if fast and sched._fifo is None:
                        fast = False
        if fast:
            if lean:
                remaining = tick(sched, n)
            else:
                t = tick(sched, n)
                remaining = t.has_remaining
        else:
            t = sched.tick(n)
            remaining = t.has_remaining
        if collecting and t.polled:  # (never lean)
            loop._dirty = True  # (read only to decide a collection)
        if watching:
            if until._ref is live and live_set:
                pass  # the task still runs
            elif live_set or until.is_complete():
                loop._io_fresh = False
                return
        expired = 0
        nxt = -1
        if timed:
            quiet = timer.trace is None  # (a task attaches one, or an entry's callback)
            if ws[_W_PENDING]:
                nxt = -2
                if peeking and quiet:
                    if timer.pending:
                        pass
                    else:
                        nxt = peek_fn(kit)  # the µs to the next turn if nothing is due, else -2
                if nxt < -1:
                    turn = turn_fn()
                    expired = turn.expired
                    nxt = turn.next_in_us
                    quiet = timer.trace is None
                else:
                    turn = None  # (nothing expired: as when no turn is taken)
            elif timer.pending or (source() - clock.base) & _MASK >= _TURN_EVERY:
                turn = turn_fn()
                expired = turn.expired
                nxt = turn.next_in_us
                quiet = timer.trace is None
            elif quiet:
                turn = None
            else:  # (a trace records every turn)
                turn = turn_fn()
                expired = turn.expired
                nxt = turn.next_in_us
        elif turning:
            turn = turn_fn()
        else:
            turn = None
        if remaining or loop.stopping:
            continue
        poller = sched.poller
        waiting = 0
        if poller is None:
            pass
        else:
            waiting = poller.waiters
        if timed:
            # idle_window(turn), in line for a loop with no collection
            if expired:
                continue  # a sleeper just woke: no idle
            us = loop.max_idle_us
            if waiting:
                most = poller.max_idle_us
                if most is None:  # no wake socket: an interrupt's wake cannot end
                    if us > poller.slice_us:  # a poll, so wait in slices
                        us = poller.slice_us
                elif most > us:
                    us = most  # a wake ends the wait early: no need to slice it
            if 0 <= nxt < us:
                us = nxt
            if us <= 0:
                continue
            # Runnable after all? Only a turn's wakes (none: it expired nothing) or another
            # thread's wake (into the inbox) can have made a task runnable since the tick said
            # none was; to idle in poll, the inbox check before poll is enough.
            if turn is None and waiting:
                pass
            elif sched._inbox_head is None:
                pass
            else:
                continue
        else:
            if turn is None:
                pass
            elif turn.expired:
                continue  # a sleeper just woke: no idle (idle_window's first answer)
            us = loop.idle_window(turn)  # idle_for(turn), in line
            if us <= 0:
                continue
        idles = idles + 1 if idles < _MASK else 0
        loop.idles = idles
        if waiting:
            # poller.wait_us(us, idle), in line: poll until the deadline, readiness or a
            # wake; the sub-ms rest of a wait in which nothing came in the idle primitive, in
            # slices with a zero poll after each (io/dispatch.py ``rest``)
            ms = us // 1000
            # The tick after the wake: decided now (only this thread changes the policy or
            # the trace), not between readiness and the task's run
            fast = direct and sched._trace is None
            if fast and sched._fifo is None:
                fast = False
            if io_poll is None:  # (a look-up, not an import: allocates nothing)
                dispatch = sys.modules["shimeji.io.dispatch"]
                io_poll = dispatch.poll
                rest = dispatch.rest
                doze = dispatch.doze
            if doze(poller):  # ``sleeping`` set and the inbox read in the section (dispatch.py)
                pass
            else:  # a wake raced with going to sleep
                continue
            woken = io_poll(poller, ms)  # (run() clears ``sleeping`` if this raises)
            poller.sleeping = False
            fresh = True
            if woken:
                continue  # I/O woke tasks: they run at once, no turn before their tick
            if ms == 0 and sched._inbox_head is None:
                if timed:  # the sub-ms rest: in slices, polling between (io/dispatch.py)
                    if rest(poller, us, idle, source, unit):
                        continue
                else:
                    idle(us)
        else:
            idle(us)
        if turning and sched._inbox_head is None:
            # The idle ended at a deadline: wake the sleepers first. Not when it ended on
            # a wake (I/O ready, another thread): those tasks run at once, and the turn
            # after their tick wakes any sleeper (~10k instructions less per I/O wake).
            if peeking and quiet:
                fire_fn(kit, None)  # (the turn without its Turn: this loop reads nothing of it)
            else:
                turn_fn()
            if fresh:  # (an entry's callback may have set a trace)
                fast = direct and sched._trace is None
                if fast and sched._fifo is None:
                    fast = False
    loop._io_fresh = fresh


@micropython.native
def step(self):
    """One iteration: tick, turn (the iteration's one clock read), and idle until the next
    deadline if nothing is runnable. Returns the Tick. Allocation-free; not ISR-safe
    (it is the loop: ``stop()`` is the call for an interrupt handler)."""
    # poll_io(), tick(), turn() and idle_for(turn) in line, in native code: as five
    # bytecode calls an empty step cost 28.6k instructions on the unix port, most of it
    # the calls and their attribute look-ups, against a tick's and a turn's ~13k.
    it = self.iterations
    self.iterations = it + 1 if it < _MASK else 0
    sched = self.sched
    if self._io_fresh:
        self._io_fresh = False
    else:
        poller = sched.poller
        if poller is None:
            pass
        elif poller.waiters:
            poller.poll(0)
    t = self._tick(self.tick_size)
    if t.polled:
        self._dirty = True
    turn_fn = self._turn
    turn = None if turn_fn is None else turn_fn()
    if t.has_remaining or self.stopping:
        return t
    # idle_window(turn), in line
    us = self.max_idle_us
    poller = sched.poller
    waiting = False
    if poller is None:
        pass
    elif poller.waiters:
        waiting = True
        most = poller.max_idle_us
        if most is None:  # no wake socket: an interrupt's wake cannot end
            if us > poller.slice_us:  # a poll, so wait in slices
                us = poller.slice_us
        elif most > us:
            us = most  # a wake ends the wait early: no need to slice it
    if turn is None:
        pass
    else:
        if turn.expired:
            return t  # a sleeper just woke: no idle
        nxt = turn.next_in_us
        if 0 <= nxt < us:
            us = nxt
    if us <= 0:
        return t
    if sched._inbox_head is None:
        pass
    else:
        return t
    fifo = sched._fifo  # FifoPolicy.has_ready(), inlined for the FIFO policy
    if fifo is None:
        if sched.policy.has_ready():
            return t
    elif fifo.head is None:
        pass
    else:
        return t
    if self._collect is None:
        pass
    elif self._dirty and us >= self.collect_min_us:
        self._collect_now()
        return t  # the collection took time: turn the timer again before waiting
    i = self.idles
    self.idles = i + 1 if i < _MASK else 0
    if waiting:
        poller.wait_us(us, self._idle)
        self._io_fresh = True
    else:
        self._idle(us)
    return t
