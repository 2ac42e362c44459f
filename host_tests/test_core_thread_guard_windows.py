# The thread guard's windows (issue 13): a call made on a thread a foreground loop does not
# poll, held between two of its reads while a loop starts or ends on another thread. Each test
# injects the loop's start or end between the two reads (a look-up that moves
# core.guard_moves as loopthread.enter/leave do, or a context whose slot appears mid-call),
# so they are deterministic; each failed on the tree before (the call bound the slot, or an
# AttributeError came out) on both runtimes. The hammering test in
# test_core_foreground_thread_guard.py is the same misuse, run for real.
import shimeji
from shimeji import NoCurrentTask, Timer, sleep_ms, sleep_until, sleep_us, timeout, yield_now
from shimeji.io import wait as wait_mod
from shimeji.sched import loopthread
from shimeji.time import deadline as deadline_mod
from shimeji.time import sleep as sleep_mod
from shimeji.time.wheelentry import TimerEntry
from support import needs_thread_module

ANOTHER = "another thread"  # (slot_of's advice: the loop polls its tasks on another thread)


class _Slot:
    """What a stale look-up returns: a slot with the fields the binders set, to see them set."""

    def __init__(self):
        self.io_obj = None
        self.timeout_guard = None
        self.timer = TimerEntry(self)
        self.sched = None


def _refuse():
    raise NoCurrentTask("no task is running on this thread (a loop polls its tasks on "
                        "another thread): call this from inside a task")


class _LoopMoves:
    """A binder's look-up during which a foreground loop's guard goes up or down on another
    thread (core.guard_moves bumped, as loopthread.enter/leave do): the first ``returns``
    look-ups return ``slot`` (what a read of "no loop" then of the slot the loop's first poll
    set, or of a slot before its loop ended, would find), every later one raises as
    loopthread.slot_of does on a thread that is not the loop's."""

    def __init__(self, slot, returns=1):
        self.slot = slot
        self.returns = returns  # (look-ups that return it; the last one moves the guard)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.returns:
            if self.calls == self.returns:
                moves = shimeji.core.guard_moves
                moves[0] = shimeji.core.wrap_count(moves[0], 1)
            return self.slot
        _refuse()


def _outcome(fn):
    try:
        fn()
        return "no error"
    except NoCurrentTask as e:
        return str(e)


def _with_look_up(mod, fake, fn, guarded=False):
    """``fn()`` with ``mod``'s look-up (its ``_slot_of``) replaced by ``fake``."""
    saved = (mod._slot_of, list(mod._checks))
    mod._slot_of = fake
    if guarded:
        mod._checks[1] = fake  # (a guard up: sleep_ms's slow way asks _slot_of)
    try:
        return _outcome(fn)
    finally:
        mod._slot_of = saved[0]
        mod._checks[:] = saved[1]


def test_a_sleep_look_up_a_loop_started_or_ended_during_is_made_again():
    # The window the hammering test hit once on the unix port (bound 1 in 50,402 calls): a
    # look-up that read "no loop" before a loop's first poll and then the slot it polled, or
    # read the slot and then found the loop gone, bound that task. Now it is made again.
    for name, fn in (("sleep_us", lambda: sleep_us(900)), ("sleep_until", lambda: sleep_until(0)),
                     ("sleep_ms(0)", lambda: sleep_ms(0)), ("sleep_ms(5)", lambda: sleep_ms(5))):
        slot = _Slot()
        fake = _LoopMoves(slot)
        msg = _with_look_up(sleep_mod, fake, fn)
        assert ANOTHER in msg and fake.calls == 2, (name, msg, fake.calls)
        assert slot.timer.pos < 0, name  # nothing armed


def test_a_slot_read_before_its_loop_ended_is_not_bound_after():
    # sleep_ms's slow way read the polled slot, then its loop's guard came down (the look-up
    # says "that slot", as slot_of did with the loop's thread gone): the call finds no task.
    ctx = shimeji.core.context
    cpython = not shimeji.port.IS_MICROPYTHON  # (its sleep_ms asks _slot_of once first)
    slot = _Slot()
    fake = _LoopMoves(slot, 2 if cpython else 1)
    ctx.slot = slot
    try:
        msg = _with_look_up(sleep_mod, fake, lambda: sleep_ms(0), guarded=True)
    finally:
        ctx.slot = None
    assert ANOTHER in msg and fake.calls == fake.returns + 1, (msg, fake.calls)
    assert slot.timer.pos < 0
    assert sleep_mod._checks == [False, None] and sleep_mod._slot_of is shimeji.core.current_slot


def test_a_timeout_look_up_a_loop_started_or_ended_during_is_made_again():
    slot = _Slot()
    fake = _LoopMoves(slot)
    msg = _with_look_up(deadline_mod, fake, lambda: timeout(yield_now(), 5))
    assert ANOTHER in msg and fake.calls == 2, (msg, fake.calls)
    assert slot.timeout_guard is None  # (the tree before made it a guard, busy)
    assert deadline_mod._slot_of is shimeji.core.current_slot


def test_an_io_wait_look_up_a_loop_started_or_ended_during_is_made_again():
    for name, fn in (("wait_readable", lambda: wait_mod.wait_readable(0)),
                     ("wait_writable", lambda: wait_mod.wait_writable(1)),
                     ("wait_io", lambda: wait_mod.wait_io(0, wait_mod.POLLIN))):
        slot = _Slot()
        fake = _LoopMoves(slot)
        msg = _with_look_up(wait_mod, fake, fn)
        assert ANOTHER in msg and fake.calls == 2, (name, msg, fake.calls)
        assert slot.io_obj is None, name  # (the tree before recorded the object on it)


class _Starting:
    """A context whose slot appears as it is read: a foreground loop started on another
    thread after the call picked its way (its guard up: ``start()``) and polls ``slot``."""

    def __init__(self, slot, start, tkit=None):
        self._slot = slot
        self._start = start
        self.started = 0
        self.tkit = shimeji.core.NO_KIT if tkit is None else tkit

    @property
    def slot(self):
        if not self.started:
            self.started = 1
            self._start()
        return self._slot


def test_an_io_wait_that_picked_the_unguarded_way_before_a_loop_started_looks_again():
    # wait_readable read _arm (no loop: _arm_plain), then a loop started on another thread
    # (its guard up: _slot_of refuses this thread) and polled a task: _arm_plain read that
    # task's slot from the shared context. Now the count moved, so the look-up is made again.
    slot = _Slot()
    saved = (wait_mod._context, wait_mod._slot_of)

    def start():
        wait_mod._slot_of = _refuse  # (what guard_thread(slot_of) does for this thread)
        moves = shimeji.core.guard_moves
        moves[0] = shimeji.core.wrap_count(moves[0], 1)

    wait_mod._context = _Starting(slot, start)
    try:
        msg = _outcome(lambda: wait_mod.wait_readable(0))
    finally:
        wait_mod._context, wait_mod._slot_of = saved
    assert ANOTHER in msg and slot.io_obj is None, (msg, slot.io_obj)


def test_sleep_ms_whose_tick_ended_before_it_read_the_slot_raises_no_current_task():
    # The fast path read ctx.tkit while a loop's tick ran, then the loop ended (no slot polled
    # any more) before it read the slot: on the tree before, AttributeError ('NoneType' object
    # has no attribute 'timer'); now its slow way, where the look-up finds no task.
    ctx = shimeji.core.context
    timer = Timer()
    outer = ctx.tkit
    ctx.tkit = timer._kit  # (what the tick put there; its loop is gone: ctx.slot None)
    try:
        msg = _outcome(lambda: sleep_ms(5))
    finally:
        ctx.tkit = outer
    assert "no task is running" in msg and "inside a task" in msg, msg
    assert timer.wheel.pending == 0


# The two tests below stage a loop on another thread (its guard word and thread ident, a
# ThreadBackground's by-thread look-up), which the library's checks answer with
# _thread.get_ident: on a port without _thread no such loop can start (loopthread.enter and
# ThreadBackground record nothing), so neither state can arise there.
@needs_thread_module
def test_sleep_ms_sees_a_loop_of_its_timer_that_started_polling_before_it_read_the_slot():
    # The fast path read the guard word (0: no loop), then a foreground loop with the same
    # timer started on another thread and polled a task: the slot it read next was that task's
    # (armed on the tree before). The slot is now read before the guard word.
    timer = Timer()
    slot = _Slot()
    other = loopthread._get_ident[0]
    ident = (other() if other else 0) ^ 0x100  # (a thread that is not this one)

    def start():
        loopthread._guard_words(timer._kit[2], ident, True)
        sleep_mod.guard_thread(_refuse)  # (loopthread.enter's _tell)

    ctx = _Starting(slot, start, timer._kit)
    saved = list(sleep_mod._bound)
    sleep_mod._rebind(ctx, saved[1], saved[2])
    try:
        msg = _outcome(lambda: sleep_ms(5))
    finally:
        sleep_mod._rebind(saved[0], saved[1], saved[2])
        sleep_mod.guard_thread(None)
        loopthread._guard_words(timer._kit[2], 0, False)
    assert ANOTHER in msg and slot.timer.pos < 0, (msg, slot.timer.pos)
    assert timer.wheel.pending == 0


@needs_thread_module
def test_a_look_up_a_background_loop_thread_started_during_is_made_again():
    # The same window at a ThreadBackground's start (its loop thread switches the binders to
    # their by-thread look-up, check_threads): a call made as it started bound its first
    # polled task. Its switch now moves the count too.
    from shimeji.sched import background as bgmod

    slot = _Slot()
    ident = 0x7FFF0  # (the loop thread's: not this one)
    saved_here = shimeji.core.slot_here[0]

    def starts():  # what ThreadBackground._main does before its first tick
        bgmod._loop_threads[ident] = True
        shimeji.core.slot_here[0] = bgmod._slot_here
        bgmod._check_threads(True)
        return slot

    saved = sleep_mod._slot_of
    sleep_mod._slot_of = starts
    try:
        msg = _outcome(lambda: sleep_us(900))
    finally:
        sleep_mod._slot_of = saved
        bgmod._loop_threads.pop(ident, None)
        bgmod._check_threads(False)
        shimeji.core.slot_here[0] = saved_here
    assert "background loop" in msg and "inside a task" in msg, msg
    assert slot.timer.pos < 0
    assert sleep_mod._slot_of is shimeji.core.current_slot and sleep_mod._checks == [False, None]
