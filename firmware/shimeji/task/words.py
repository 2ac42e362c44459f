"""A task slot's words: what the hot paths read and write of a slot, as machine words.

Every ``TaskSlot`` makes, at construction, one ``array('i')`` of ``WORDS`` words (``slot.w``)
that it keeps for its lifetime: the array is never replaced nor grown, so a word's address
never changes and viper code (the FIFO tick, ``wake``, ``_park``, the timer's hand-off) reads
and writes it with a machine load or store through ``ptr32(slot.w)``, while bytecode and native
code use the accessors below (or a subscript of ``slot.w``). ``slot.wa`` holds the array's
address as an int (``addr_of``; on CPython the array itself), the two set together by
``set_words`` and nothing else: ``ptr32(slot.wa)`` casts an int, which skips the buffer
protocol's call that ``ptr32(slot.w)`` makes (~50 instructions a cast on the unix port; the
address stays valid: MicroPython's heap never moves an object). An executor's steal moves the
slot object, and its words with it. The words:

- ``W_STATE`` (0): the slot's state, ``core.FREE``..``core.ASLEEP``. A task that a task
  spawned in line while the FIFO tick polls keeps FREE until its first poll writes RUNNING:
  ``spawn``'s in-line case and the asyncio facade's ``create_task`` (its in-line case,
  asyncio/loop.py) write no state (the store is ~300 instructions of a spawn's ~10k in
  native code); ``spawn_detached``'s in-line case neither (onto the FIFO queue too), and
  ``_start`` writes QUEUED. Until that
  poll nothing reads the word but as "not running, not waiting" (a wake of a FREE or a
  QUEUED slot does nothing). So a slot is live while it holds a coroutine (``slot.coro``,
  what the pool's queries and ``cancel_slot`` read), and ``state_of`` reads QUEUED for a
  live slot whose word is FREE.
- ``W_THROW`` (1): 1 while ``slot.throw_exc`` holds an exception to throw in at the next poll
  (the exception stays the attribute; the flag is what the polls test). Set and cleared with
  the attribute by ``set_throw``/``clear_throw`` (or the same two stores in line).
- ``W_REWOKEN`` (2): 1 once a wake found the task RUNNING (was ``slot.rewoken``): ``_park``
  reads and clears it under the section, the ring sleep's park and the completion clear it.
- ``W_ID`` (3): the task's id while a ``Trace`` watches the slot's scheduler (the traced FIFO
  tick writes it into each poll's records with a machine load): ``Trace.spawned``,
  ``Trace.attach`` and a steal into a traced worker write it; an untraced spawn leaves it
  stale, so only a traced tick reads it (``trace/ring.py``).
- ``W_TPOS`` (4), ``W_TWHEEL`` (5), ``W_TDL`` (6): the slot's own timer entry (``slot.timer``,
  a ``SlotTimer``: time/wheelentry.py): its number in its wheel's words (``NOT_ARMED``, 0xFFFF,
  when it is not armed; ``slot.timer.pos`` reads -1 then), the id of the wheel
  ``slot.timer.wheel`` is (that wheel's ``_W_ID`` word; 0: none yet) and the deadline it was
  last armed for (``slot.timer.deadline``). ``sleep_ms``, the tick's park and the timer's
  hand-off read and write them as machine words, not the entry's attributes.
- ``W_SEND`` (7): 1 while the slot may hold a coroutine that is not a generator (a
  coroutine-like object with ``send``, ``throw`` and ``close``): ``_start`` and the facade's
  ``create_task`` set it for one, the completions clear it (the viper tick's in-line one,
  ``StaticScheduler._complete``, an executor worker's through it, the facade's; the native
  tick, which polls every task by its own ``send``, leaves it). While it is
  0 the viper tick polls with the generator type's own ``send`` (``gsend(coro, None)``, read
  once per tick) instead of looking ``coro.send`` up per poll (-84 instructions a switch on
  the unix port); a generator in a slot marked 1 is polled the general way, as before. The
  spawns that take only generators (spawn's and ``spawn_detached``'s in-line cases) write
  nothing. Eight words fill the two 16 B heap blocks seven took on a 32-bit board.

Design note: "woken while it ran" is a word of its own, not a state. Folded into the state
(a sixth state, round fourteen's plan) a wake's read-modify-write of the state word would
race the tick's stores without the section (RUNNING to ASLEEP at a ring sleep's park) on a
port whose cores run Python at once (no GIL): a wake that read RUNNING and wrote its state
after the park's ASLEEP would leave a sleeper no hand-off queues. As a word of its own, a
wake writes only it, as it wrote only ``rewoken`` before; in viper the store is one machine
instruction either way.

Design note: why a slot's own array and not numbered chunks. Round fourteen's plan numbered
every slot of the interpreter and kept its words in shared ``array('i')`` chunks, with a
number-to-slot table for links kept as numbers. MicroPython calls no ``__del__`` of a Python
class, so such a table would keep every slot ever made alive (a scheduler dropped without
``close()`` never freed: ``test_sched_close_frees``, every test's schedulers), or leak numbers
(a bounded table runs out). A slot's own array is freed with the slot, needs no table, moves
with a steal, and reads the same on CPython (``ptr32`` is the array itself there). Its cost:
one attribute load and one buffer cast per slot a viper function touches (the numbered design
would have paid a subscript for the slot object instead), 16 B of words per slot (one heap
block on a 32-bit board) and the array object. The FIFO ring's and the inbox's links stay
slot attributes (``run_next``, ``inbox_next``).

Not ISR-safe to construct (``new_words`` allocates); every accessor below is allocation-free
and ISR-safe (each is one or two word operations).
"""

from array import array

import micropython
from micropython import const

from ..port import IS_MICROPYTHON as IS_MP

W_STATE = const(0)
W_THROW = const(1)
W_REWOKEN = const(2)
W_ID = const(3)
W_TPOS = const(4)
W_TWHEEL = const(5)
W_TDL = const(6)
W_SEND = const(7)
WORDS = const(8)
NOT_ARMED = const(0xFFFF)  # W_TPOS of an entry not armed (above every wheel number; not -1:
#                            through viper's ptr32 a stored -1 reads as 2**32 - 1 on 64 bits)


def new_words():
    """A slot's words: FREE, no throw, its timer entry not armed. Allocates: slot
    construction only."""
    return array("i", (0, 0, 0, 0, NOT_ARMED, 0, 0, 0))


def addr_of(buf):
    """The int ``ptr32(slot.wa)`` casts: the address of ``buf``'s data (viper's ``_address``);
    on CPython and in a bytecode-only build (tools/bytecode_copy.py), whose casts index the
    array itself, the array. Set-up only (a slot's construction)."""
    return buf


if IS_MP:

    @micropython.viper
    def _address(buf) -> int:
        return int(ptr32(buf))  # noqa: F821 (viper's cast)

    try:  # (a bytecode-only build: ptr32 is defined after this, or indexes: it raises)
        if _address(new_words()) > 0:
            addr_of = _address  # noqa: F811
    except Exception:  # noqa: BLE001
        pass


def set_words(slot, buf):
    """Give ``slot`` the words ``buf`` and their address ``slot.wa`` together: the one place a
    slot's words are set (``TaskSlot()``, a test's instrumented words). ``wa`` is what viper
    casts with ``ptr32``: words set without it would leave the casts on the old array (freed
    once nothing else holds it: a store through it writes freed heap). Set-up only."""
    slot.w = buf
    slot.wa = addr_of(buf)


def new_flag():
    """A scheduler's flag words, 0 (``sched._news``). Word 0: the FIFO tick reads it per poll
    with a machine load; writers store ``_news[0] = 1``, in viper through ``ptr32``. Word 1: 1
    while the traced FIFO tick polls on this thread, so that ``_start`` puts a spawn on the
    tick's own list (sched/tracedfifo.py). Words 2-6, the join's hand-off (sched/owntick.py):
    the polls the viper FIFO tick has left while it polls a task, the polls hand-offs took,
    whether the class keeps ``_complete`` (0: not asked this tick), the hand-offs' completions
    (each also a joiner's wake) and the spawns they took off the tick's list, the last three
    counted by the tick at its loop's top. Never replaced. Allocates: set-up only."""
    return array("i", (0, 0, 0, 0, 0, 0, 0))


def state_of(slot):
    """The slot's state (``core.FREE``..``core.ASLEEP``): QUEUED for a live slot whose word
    is FREE (spawned in line by ``spawn`` or the facade's ``create_task``, not polled yet: see
    ``W_STATE``). ISR-safe."""
    st = slot.w[0]
    if st == 0 and slot.coro is not None:
        return 1
    return st


def set_state(slot, state):
    """Write the slot's state word. ISR-safe."""
    slot.w[0] = state


def rewoken(slot):
    """True if a wake found the task running since its last park. ISR-safe."""
    return slot.w[2] != 0


def set_throw(slot, exc):
    """Have ``exc`` thrown into the task at its next poll (``throw_exc`` and its flag word).
    ISR-safe (allocation-free: the caller made ``exc``)."""
    slot.throw_exc = exc
    slot.w[1] = 1


def clear_throw(slot):
    """Take back the exception to throw in (``throw_exc`` None and its flag 0). ISR-safe."""
    slot.throw_exc = None
    slot.w[1] = 0
