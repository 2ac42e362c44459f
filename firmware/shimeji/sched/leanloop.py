"""``run_lean``: ``RunLoop.run()``'s loop (loopiter's ``iterate``) and its FIFO tick (wordtick)
in one viper function, for the common case, I/O waits included (docs/timer.md, docs/io.md)."""

import micropython
from micropython import const

from .. import port
from .leankit import KIT as _K
from .leankit import RP2

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython

DECLINED = const(0)  # run_lean's answers: nothing done, the iteration is iterate's
RESUME = const(1)  # an iteration counted, its top (the zero poll, the checks) is iterate's
UNTIL = const(2)  # ``until`` completed: run() returns
STOPPED = const(3)  # loop.stop(): run() returns
_QUEUED = const(1)  # core's states (task/words.py)
_RUNNING = const(2)
_ASLEEP = const(4)
_W_TPOS = const(4)  # the slot's timer entry's number (task/words.py)
_NOT_ARMED = const(0xFFFF)
_OK = const(2)
_MASK = const(0x3FFFFFFF)
_W_PENDING = const(27)  # TimerWheel._w's armed-entry count (time/wheel.py)
_TURN_EVERY = const(0x80000)  # as in loopiter.py


def _bind():
    exc = None  # the exception a poll ended with: a cell (wordtick.py, docs/architecture.md)

    @micropython.viper
    def run_lean(loop, sched, until, live) -> int:
        """``iterate``'s loop from an iteration's tick; returns why it stopped. Not ISR-safe."""
        nonlocal exc
        k = _K
        nil, no_kit = k[0], k[1]
        vip = int(k[16])
        ctx = sched._ctx
        if sched.parallel or sched._shielding or ctx.sched is not nil:
            return DECLINED
        fin = k[17]  # (leankit.done) for a scheduler whose _complete is StaticScheduler's:
        plain = 1 if type(sched)._complete is k[18][0] else 0
        watch = 0 if until is nil else 1  # (then live is its task's slot: iterate's fuse)
        sleep, park, join, stop, gsend, end = k[2], k[3], k[4], k[5], k[6], k[8]
        timer = loop.timer  # (a shimeji Timer: iterate checked; its wheel and clock are fixed)
        tk, clock = timer._kit, timer.clock
        wa, source = tk[2], clock.source  # the wheel's words (re-cast each turn: arming may grow)
        peek_fn, fire_fn, turn_fn, idle = k[11], k[12], loop._turn, loop._idle
        news = ptr32(sched._news)  # (a word array that never grows)
        stimer, tkit = nil, no_kit  # sched.timer as last seen, the kit its ticks give sleep_ms
        n0 = 0 if int(loop.tick_size) < 0 else int(loop.tick_size)
        it, idles = int(loop.iterations), int(loop.idles)
        fifo, outer_slot = sched._fifo, ctx.slot  # (iterate checked the queue and the trace)
        top = io = fresh = 0  # iterate began it; tasks wait for I/O; the last idle polled
        io_poll = wait_us = poller = dpoll = lk = acq = rel = nil  # (see their first uses)
        news[0] = 1  # the first tick looks at both lists whatever came before (wordtick's)
        while True:
            if top:  # the top of an iteration (iterate's): its count and its checks
                if loop.stopping:
                    return STOPPED
                it = it + 1 if it < _MASK else 0
                if fresh == 2:  # the idle's poll woke tasks, uncounted: run them at once
                    fresh = 0  # (the count stored and the queue and trace checked before it)
                else:
                    loop.iterations = it
                    if fresh or io and int(poller.poll(0)):  # the zero poll (iterate's), not
                        fresh = 0  # right after an idle in the poller; the poll's in-line
                        sched._woken_timer = 0  # wakes count there: Tick's alone, none here
                    fifo = sched._fifo
                    if 1 if fifo is nil else (0 if sched._trace is nil else 1):
                        return RESUME
            top = 1  # the tick (wordtick.py's tick_lean, the outer context known)
            head = fifo.head
            hn = 0 if head is nil else 1  # head and tail not None, as a machine word
            if hn == 0 and sched._inbox_head is nil:  # nothing to poll: end_tick's way
                remaining = 1 if end(sched, 0, 0, False) else 0
            else:
                tail = fifo.tail
                left = n0
                completed = intr = stays = stale = nw = shielding = joins = 0
                sched._polling = True
                ctx.sched = sched
                st = sched.timer
                if st is stimer:
                    pass
                else:  # (endtick.tick_kit)
                    stimer = st
                    tkit = no_kit if st is nil or sched.level else k[7](st, "_kit", no_kit)
                    ctx.tkit = tkit  # (left between ticks: iterate puts NO_KIT back after)
                sched._local_ok = lnext = sched._local_next  # (set again at each drain)
                if sched._shielding:  # (run() raised the shield: set again since, see tick_fifo)
                    sh = k[13]
                    if sh.target is not nil or k[15](k[14]) != sh.modules:
                        sh.on()
                        shielding = 1
                if hn:
                    tail.run_next = head  # a ring while the tick runs (fastpath.py's note)
                err = nil
                while True:
                    if news[0]:  # a spawn or a wake since the last look (tick_fifo's)
                        try:
                            news[0] = 0
                            nw = 1  # (the wake counts are read at the end only after news)
                            slot = sched._local_head
                            if slot is nil:
                                pass
                            else:
                                if hn:
                                    tail.run_next = slot
                                else:
                                    head = slot
                                hn = 1
                                tail = sched._local_tail
                                tail.run_next = head
                                sched._spawned = int(sched._spawned) + int(tail.id) - \
                                    int(slot.id) + 1
                                sched._local_head = sched._local_tail = nil
                            if sched._inbox_head is nil:
                                pass
                            else:  # (before the take: a wake clears it, lifecycle.py)
                                sched._local_ok = lnext
                                slot = sched._take_inbox()
                                while slot is not nil:
                                    nx = slot.inbox_next
                                    slot.inbox_next = nil
                                    if hn:
                                        tail.run_next = slot
                                    else:
                                        head = slot
                                    hn = 1
                                    slot.run_next = head
                                    tail = slot
                                    slot = nx
                        except BaseException as exc:
                            if err is nil:
                                err = exc
                            left = 0
                    if stays:  # the ring turns one step
                        if stale:
                            tail.run_next = head
                            stale = 0
                        tail = head
                        head = head.run_next
                        stays = 0
                    elif hn == 0:
                        break
                    if left == 0:
                        break
                    slot = head
                    left -= 1
                    sw = ptr32(int(slot.wa)) if vip else ptr32(slot.wa)
                    sw[0] = _RUNNING
                    ctx.slot = slot
                    status = 0
                    value = r = nil
                    try:
                        if sw[1]:
                            r = sched._throw_in(slot)
                        elif sw[7]:
                            r = slot.coro.send(nil)
                        else:
                            r = gsend(slot.coro, nil)
                    except stop as exc:
                        status = _OK
                        value = exc.value
                    except BaseException as exc:
                        status = -1
                        value = exc
                    if status == 0:
                        if r is sleep:  # sched._park_sleep(slot), in line (first: a timer loop)
                            if sw[_W_TPOS] >= _NOT_ARMED or sw[1]:  # fired already; a throw
                                sw[0] = _QUEUED
                                stays = 1
                                continue
                            sw[2] = 0
                            sw[0] = _ASLEEP
                        elif r is nil:
                            sw[0] = _QUEUED
                            stays = 1
                            continue
                        elif r is join:  # (its completion queues it: wake_joiners)
                            sw[2] = 0
                            sw[0] = _ASLEEP
                        else:
                            try:
                                if r is park:
                                    if sched._park(slot):
                                        stays = 1
                                else:
                                    sched._foreign(slot, r)
                                    stays = 1
                            except BaseException as exc:
                                err = exc
                                left = 0
                                stays = 1
                            if stays:
                                continue
                    elif status < 0:
                        status = int(k[9](sched, value))  # poll_outcome
                        if status == 0:
                            intr = 1
                    if slot is tail:  # it leaves the ring (tick_fifo's lazy unlink)
                        head = tail = nil
                        hn = 0
                    else:
                        head = slot.run_next
                        stale = 1
                    if intr:
                        err = k[10](sched, slot, value)  # poll_interrupted
                        left = 0
                    if status:
                        try:
                            completed += 1
                            if value is nil and plain:  # _complete's common case, in line
                                slot = fin(sched, slot)  # (leankit.done): a joiner it queues
                                if slot is nil:
                                    pass
                                else:  # at the ring's tail (tick_fifo's, wordtick.py)
                                    if hn:
                                        tail.run_next = slot
                                    else:
                                        head = slot
                                    hn = 1
                                    slot.run_next = head
                                    tail = slot
                                    joins += 1
                            else:
                                sched._complete(slot, status, value)
                        except BaseException as exc:
                            err = exc
                            left = 0
                sched._local_ok = False
                # left by a completion that ended the tick (or a raise in the drain)
                slot = sched._local_head if news[0] else (nil if err is nil else sched._local_head)
                if slot is not nil:
                    if hn:
                        tail.run_next = slot
                    else:
                        head = slot
                    hn = 1
                    tail = sched._local_tail
                    tail.run_next = head
                    sched._spawned = int(sched._spawned) + int(tail.id) - int(slot.id) + 1
                    sched._local_head = sched._local_tail = nil
                if stays:
                    if stale:
                        tail.run_next = head
                    tail = head
                    head = head.run_next
                if hn:
                    tail.run_next = nil
                if shielding:
                    k[13].off()
                fifo.head, fifo.tail = head, tail
                sched._polling = False
                ctx.slot, ctx.sched = outer_slot, nil
                if joins:  # counted as wake() counts a task's wakes (tick_fifo's)
                    state = sched._enter()
                    sched._woken_int = int(sched._woken_int) + joins
                    sched._exit(state)
                if err is not nil:
                    raise err
                if (nw or news[0]) and (sched._woken_ext or sched._woken_int) or sched._spawned:
                    remaining = 1 if end(sched, n0 - left, completed, hn != 0) else 0
                else:  # end_tick in line (tick_fifo's common end)
                    if completed:
                        c = int(sched.completed_total) + completed
                        sched.completed_total = c if c <= _MASK else c - _MASK - 1
                    remaining = hn
                    if hn == 0 and sched._inbox_head is not nil:
                        remaining = 1
            poller = sched.poller  # until, the turn, the idle (iterate's, timed and peeking)
            io = 0 if poller is nil else (1 if poller.waiters else 0)
            if watch and (0 if until._ref is live else 1):
                return UNTIL
            expired = turned = 0
            nxt = -1
            quiet = 1 if timer.trace is nil else 0
            ws = ptr32(wa)
            if ws[_W_PENDING]:
                nxt = (-2 if timer.pending else int(peek_fn(tk))) if quiet else -2
                if nxt < -1:
                    turned = 1
            elif quiet == 0 or timer.pending or \
                    ((int(source()) - int(clock.base)) & _MASK) >= _TURN_EVERY:
                turned = 1
            if turned:
                turn = turn_fn()
                expired = int(turn.expired)
                nxt = int(turn.next_in_us)
                quiet = 1 if timer.trace is nil else 0
            if remaining or loop.stopping:
                continue
            if expired:
                continue  # a sleeper just woke: no idle
            us = int(loop.max_idle_us)
            if io:  # (iterate's idle_window for a poller)
                most = poller.max_idle_us
                if most is nil:  # no wake socket: an interrupt's wake cannot end a poll
                    us = int(min(us, int(poller.slice_us)))
                elif int(most) > us:
                    us = int(most)  # a wake ends the wait early: no need to slice it
            elif sched._inbox_head is nil:  # (with I/O: read below, after ``sleeping``)
                pass
            else:
                continue
            if 0 <= nxt and nxt < us:
                us = nxt
            if us <= 0:
                continue
            idles = idles + 1 if idles < _MASK else 0
            loop.idles = idles
            if io:  # in the poller until the deadline, readiness or a wake (io/dispatch.py)
                fresh = 1
                if poller is not dpoll:  # its section's lock, if poll() takes it in line (None:
                    dpoll, lk = poller, poller._lock  # wait_us, which dozes in the section)
                    acq, rel = k[7](lk, "_acquire", nil), k[7](lk, "_release", nil)
                    io_poll = k[14]["shimeji.io.dispatch"].poll  # (look-ups, not an import:
                    wait_us = k[14]["shimeji.io.dispatch"].wait_us  # it allocates nothing)
                if us < 1000 or lk is nil or not acq(0):  # (held: by this thread, or soon free)
                    woken = int(wait_us(poller, us, idle))  # (the sub-ms rest: in slices)
                else:  # wait_us in line, its doze too: ``sleeping`` set and the inbox read
                    poller.sleeping = True  # in the section a wake links under (else each may
                    empty = sched._inbox_head is nil  # miss the other: dispatch.py's doze)
                    rel()
                    if empty and sched._fifo is fifo and sched._trace is nil and \
                            int(sched._woken_timer) == 0:  # (the next top's checks and count,
                        fresh = 2  # made now: only this thread changes what they read)
                        loop.iterations = it + 1 if it < _MASK else 0
                    woken = int(io_poll(poller, us // 1000, False)) if empty else 0
                    poller.sleeping = False  # (run() clears it if the poll raises)
                if woken:
                    continue  # I/O woke tasks: they run at once, no turn before their tick
                fresh = 1
            else:
                idle(us)
            if sched._inbox_head is nil:  # the idle ended at a deadline: wake the sleepers
                if quiet:
                    fire_fn(tk, sched)  # (a hint: between ticks, its inbox just seen empty)
                else:
                    turn_fn()

    return run_lean


run_lean = None if RP2 else _bind()
