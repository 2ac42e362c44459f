# A slot's words (``slot.w``) and their address (``slot.wa``, what viper casts with ptr32) are
# set together by ``task.words.set_words`` and nowhere else: words replaced without their
# address would leave every viper read and store on the old array (freed once nothing holds
# it). The source holds no other assignment: test_task_words_set_source (CPython: it reads it).
from array import array

from shimeji import StaticScheduler, core
from shimeji.task.slot import TaskSlot
from shimeji.task.words import addr_of, new_words, set_words, state_of
from support import IS_MICROPYTHON


def test_set_words_sets_the_words_and_their_address_together():
    slot = TaskSlot()
    old = slot.wa
    buf = new_words()
    set_words(slot, buf)
    assert slot.w is buf
    assert slot.wa == addr_of(buf)
    if IS_MICROPYTHON:  # an int address, of the new array's data
        assert type(slot.wa) is int and slot.wa != old
    else:  # CPython's casts index the array itself
        assert slot.wa is buf


def test_every_slot_casts_its_own_words():
    s = StaticScheduler(3)
    slots = [TaskSlot()] + s.slots
    assert all(slot.wa == addr_of(slot.w) for slot in slots)
    assert len(set(id(slot.w) for slot in slots)) == len(slots)


class ParkOnce:
    """Parks the task (core.PARK) once; done at its next poll."""

    def __init__(self):
        self.parked = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.parked:
            raise StopIteration
        self.parked = True
        return core.PARK


def test_viper_reads_the_words_set_last():
    # The wake (viper: ptr32(slot.wa)) reads the state from the words set last: a QUEUED
    # state there (and FREE in the words before) means the wake leaves the task alone.
    s = StaticScheduler(2)

    async def parked():
        await ParkOnce()

    s.spawn(parked())
    s.tick()
    slot = [x for x in s.slots if state_of(x) != core.FREE][0]
    before = slot.w
    fresh = array("i", (core.QUEUED, 0, 0, 0))
    set_words(slot, fresh)
    core.wake(slot)
    assert slot.inbox_next is None and s.tick().polled == 0  # not queued: the state said so
    assert before[0] == core.WAITING
    set_words(slot, before)
    core.wake(slot)
    assert s.tick().polled == 1
