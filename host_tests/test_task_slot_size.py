# A TaskSlot keeps the fields few tasks use (timeouts, I/O, held Mutexes, priorities, a
# trace's count) as class-level defaults: a fresh slot's attribute table holds 27 names (a
# 29-entry table on MicroPython, not the 37-entry one of 31 names), the rare fields read their
# defaults until first set, and a slot keeps what it set for its later tasks. On MicroPython
# (the boards too) the heap says so: a fresh slot's bytes, its table's two spare entries, the
# 37-entry table its third extra name grows it to. (A slot that used timeouts and I/O waits
# allocates nothing in steady state: test_task_slot_io_alloc, host-only for its sockets.)
import sys

from shimeji import (
    CfsPolicy,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    Timer,
    TimerEntry,
    sleep_ms,
    timeout,
)
from shimeji.task.slot import TaskSlot
from shimeji.task.words import new_words
from support import alloc_delta, heap_locked, micropython_only

RARE = {"deadline": None, "deadline_owner": None, "timeout_guard": None, "io_obj": None,
        "io_mask": 0, "io_events": 0, "io_entry": None, "held_locks": None, "priority": 0,
        "base_priority": 0, "inherited": None, "wakes": 0}


def test_a_fresh_slot_has_27_names_and_reads_the_rare_fields_as_defaults():
    s = StaticScheduler(2)
    for slot in [TaskSlot()] + s.slots:
        names = set(slot.__dict__)
        assert len(names) == 27  # (the state and rewoken words, then ``wa``: task/words.py)
        assert not names & set(RARE)
        for name, default in RARE.items():
            assert getattr(slot, name) == default


def test_a_slot_keeps_its_deadline_entry_and_guard_for_its_next_task():
    s = StaticScheduler(1, timer=Timer())
    seen = []

    async def guarded():
        await timeout(sleep_ms(0), 1000)
        slot = s.slots[0]
        seen.append((slot.deadline, slot.timeout_guard, slot.deadline_owner))

    for _ in range(2):
        s.run_until_complete(guarded())
    slot = s.slots[0]
    assert "deadline" in slot.__dict__ and "timeout_guard" in slot.__dict__
    (entry, guard, owner), (entry2, guard2, owner2) = seen
    assert type(entry) is TimerEntry and entry2 is entry and guard2 is guard
    assert owner is None and owner2 is None  # the guard gave the entry back
    assert slot.deadline.pos < 0 and slot.deadline_owner is None
    assert TaskSlot.deadline is None  # the class default is never written


def _word():
    return 8 if sys.maxsize > 0xFFFFFFFF else 4


def _blocks(nbytes):
    """What the heap gives ``nbytes``: whole GC blocks of four words."""
    block = 4 * _word()
    return (nbytes + block - 1) // block * block


def _table(entries):
    """An attribute table of ``entries`` entries (a key and a value: two words each)."""
    return _blocks(2 * entries * _word())


@micropython_only
def test_a_fresh_slot_is_its_object_a_29_entry_table_its_words_its_handle_and_timer():
    TaskSlot()  # (the first imports task.slot for its handle)
    instance = _blocks(4 * _word())  # (an object's type and attribute map: four words)
    words = alloc_delta(new_words)  # (the array and its 8 int32 words)
    handle = timer = instance + _table(2)  # (two names each: JoinHandle, SlotTimer)
    got = alloc_delta(TaskSlot)
    assert got == instance + _table(29) + words + handle + timer, (got, _word())


def _store_spares(slot):
    slot.held_locks = None
    slot.wakes = 0


@micropython_only
def test_a_fresh_slots_table_has_two_spare_entries_and_a_third_name_grows_it_to_37():
    slot = TaskSlot()
    heap_locked(_store_spares, slot)  # (names 28 and 29: the table's room)
    assert len(slot.__dict__) == 29
    grew = alloc_delta(setattr, slot, "priority", 0)  # (name 30: 29 -> 37 entries)
    assert grew == _table(37) - _table(29), (grew, _word())  # (the 29-entry table freed)


def test_a_slots_own_timer_entry_keeps_two_names_and_reads_callback_and_key_as_defaults():
    slot = TaskSlot()
    assert set(slot.timer.__dict__) == {"slot", "wheel"}  # (pos, deadline: the slot's words)
    assert slot.timer.callback is None and slot.timer.key == 0 and slot.timer.pos == -1


def _spawn_rounds(s, coros):
    for coro in coros:
        s.spawn_detached(coro)
        s.tick()


def _coros(n):
    return [_noop() for _ in range(n)]  # (made before the heap is locked)


def _policies():
    return (PriorityPolicy(), CfsPolicy(), RoundRobinPolicy(500))


def test_a_policy_that_keeps_fields_gives_each_slot_its_priority_names_with_them():
    names = {"priority", "base_priority", "inherited"}
    for policy in _policies():
        s = StaticScheduler(2, policy=policy)
        mine = TaskSlot()
        assert not names & set(mine.__dict__)
        s.spawn_allocated(mine, _noop())  # a caller's slot: its fields at its first use
        s.tick()
        for slot in s.slots + [mine]:
            assert names <= set(slot.__dict__), (policy, slot)
    s = StaticScheduler(2)  # plain FIFO: none of them, the class defaults read
    _spawn_rounds(s, _coros(3))
    for slot in s.slots:
        assert not names & set(slot.__dict__) and slot.priority == 0 and slot.inherited is None


@micropython_only
def test_a_policys_stores_per_spawn_never_grow_a_slots_table():
    fifo = StaticScheduler(2)
    _spawn_rounds(fifo, _coros(2))
    coros = _coros(20)
    plain = alloc_delta(_spawn_rounds, fifo, coros)  # (a finished coroutine's StopIteration)
    for policy in _policies():
        s = StaticScheduler(2, policy=policy)
        _spawn_rounds(s, _coros(2))  # warm: the policy's own first-use work
        heap_locked(_spawn_rounds, s, _coros(20))  # (a table's growth fails here)
        coros = _coros(20)
        assert alloc_delta(_spawn_rounds, s, coros) == plain, policy


async def _noop():
    return None
