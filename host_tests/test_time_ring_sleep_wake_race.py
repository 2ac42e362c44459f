# A wake from another thread that reads the slot while its task is parking on the ring sleep
# (tick_fifo writes ASLEEP, with no critical section) must not queue it: the sleep would end
# early (test_time_ring_sleep_threads saw it once, when the sleep was a ``sleeping`` flag
# beside WAITING). The interleaving is made deterministic here: the wake's first read of the
# slot's state lets the "other thread" park the task right after it. The read is a word of the
# slot's words (task/words.py), which viper reads with a machine load on MicroPython: the
# interleaving can only be injected on CPython, where viper's ptr32 is the array itself (any
# object with items there): each test here says so by its skip on MicroPython.
from shimeji import StaticScheduler, Timer, core
from shimeji.sched.waking import _wake_irq
from shimeji.task.slot import TaskSlot
from shimeji.task.words import set_words
from shimeji.time.clock import FakeClock
from support import cpython_only

_QUEUED = 1
_RUNNING = 2
_WAITING = 3
_ASLEEP = 4


class RacyWords:
    """A slot's words whose first read of the state (word 0) after ``after_read`` is set
    returns the value, then runs ``after_read()``: the other thread's writes land right after
    it. ``words`` holds the words themselves (read them there: no hook)."""

    def __init__(self, words):
        self.words = words
        self.after_read = None

    def __getitem__(self, i):
        value = self.words[i]
        hook = self.after_read
        if i == 0 and hook is not None:
            self.after_read = None
            hook()
        return value

    def __setitem__(self, i, value):
        self.words[i] = value


class RacySlot(TaskSlot):
    """A slot with ``RacyWords`` (``slot.after_read``: its words' hook)."""

    def __init__(self):
        TaskSlot.__init__(self)
        set_words(self, RacyWords(self.w))  # (and wa: on CPython the words' object itself)

    @property
    def after_read(self):
        return self.w.after_read

    @after_read.setter
    def after_read(self, hook):
        self.w.after_read = hook

    @property
    def state(self):  # (the test's own reads: no hook)
        return self.w.words[0]

    @state.setter
    def state(self, value):
        self.w.words[0] = value

    @property
    def rewoken(self):
        return self.w.words[2]


class RingSleep:
    """What ``sleep_ms`` does on MicroPython (CPython's parks instead): arm the task's own
    timer entry, yield ``core.SLEEP`` once, done on the next poll."""

    def __init__(self, ms):
        self.ms = ms
        self.armed = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.armed:
            raise StopIteration
        self.armed = True
        slot = core.current_slot()
        slot.sched.timer.arm_ms(slot.timer, self.ms)
        return core.SLEEP


def _parked_sleeper():
    clock = FakeClock()
    sched = StaticScheduler(2, timer=Timer(clock, 1000))
    sched._plain_slot = RacySlot  # (its wake in line, as a TaskSlot's: a subclass's goes aside)
    slot = RacySlot()

    async def sleeper():
        await RingSleep(5)
        return "slept"

    h = sched.spawn_allocated(slot, sleeper())
    sched.tick()
    assert slot.state == _ASLEEP and slot.timer.pos >= 0
    return clock, sched, slot, h


def _park_on_the_sleep(slot):
    def park():  # tick_fifo's ring-sleep park, in its order
        slot.w.words[2] = 0  # (rewoken)
        slot.state = _ASLEEP

    return park


def _race(wake):
    clock, sched, slot, h = _parked_sleeper()
    slot.state = _RUNNING  # back to just before the park: running, not yet asleep
    slot.after_read = _park_on_the_sleep(slot)
    wake(sched, slot)  # its first read sees the task running, then the task parks
    assert slot.after_read is None  # the interleaving happened
    assert sched._inbox_head is None and slot.state == _ASLEEP  # not queued: still asleep
    assert slot.rewoken  # it read RUNNING: at worst a later PARK sees a spurious wake
    sched.tick()
    assert not h.is_complete()
    clock.advance(6)
    sched.timer.turn()
    sched.tick()
    assert h.result() == "slept"


@cpython_only
def test_a_wake_racing_the_ring_sleep_park_is_ignored():
    _race(lambda sched, slot: sched.wake(slot))


@cpython_only
def test_the_same_on_the_interrupt_masking_wake():
    from shimeji import IrqCriticalSection
    from synchelp import StateMachine

    def wake(sched, slot):
        sched._irq = IrqCriticalSection(StateMachine())
        sched._irq_off = sched._irq._disable
        sched._irq_on = sched._irq._enable
        _wake_irq(sched, slot)

    _race(wake)


@cpython_only
def test_a_wake_racing_the_timer_hand_off_never_queues_twice():
    # The hand-off writes QUEUED (one word), then clears the entry's pos: a wake that comes
    # while it does finds ASLEEP (ignored) or QUEUED (a no-op), never a state to queue.
    clock, sched, slot, h = _parked_sleeper()

    def hand_off():
        slot.state = _QUEUED
        slot.timer.pos = -1

    slot.after_read = hand_off
    sched.wake(slot)
    assert slot.after_read is None
    assert sched._inbox_head is None and slot.state == _QUEUED
