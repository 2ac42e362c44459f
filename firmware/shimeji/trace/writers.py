"""The ring's layout and its hot writers: viper functions, a record a few machine stores.

The main ring of a ``Trace`` is one ``array('i')``: a header of ``HEADER`` words, then 4
words a record (a µs timestamp in 30-bit wrapping ticks, a kind, a task id, an argument).
``put`` appends one record, ``poll_records`` writes a poll's POLL_BEGIN/POLL_END pair around
what the poll recorded meanwhile. Both run in the scheduler's context only (its one writer);
records from interrupt handlers and other threads go through the side ring (``side.py``).
``sched/tracedfifo.py`` inlines ``poll_records``'s common case (nothing recorded meanwhile).
"""

import micropython
from micropython import const

from .. import port

_MASK = const(0x3FFFFFFF)
_POLL_BEGIN = const(2)  # kinds.POLL_BEGIN
_POLL_END = const(3)  # kinds.POLL_END
_END_YIELD = const(0)  # kinds.END_YIELD
_PARK_TIMER = const(1)  # kinds.PARK_TIMER

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython

# The header's words (``_NAME`` copies of these live in sched/traced*.py: viper wants consts).
_POS = const(0)  # where the next record goes
_COUNT = const(1)  # records held (at most size)
_DROPPED = const(2)  # records overwritten, wrapping below 2**30
_SIZE = const(3)
_BEGIN = const(4)  # where the running poll's POLL_BEGIN goes (sched/traced*.py)
_SIDE = const(5)  # side records not yet moved (written under the critical section)
_START = const(6)  # when the running poll began (µs ticks; sched/traced*.py)
_SIDE_DROPPED = const(7)  # side records overwritten (written under the critical section)
# 8 and 9: the traced FIFO tick's (sched/tracedfifo.py): in a poll, polls so far
HEADER = const(10)
POS = _POS
COUNT = _COUNT
DROPPED = _DROPPED
SIZE = _SIZE
BEGIN = _BEGIN
SIDE = _SIDE
SIDE_DROPPED = _SIDE_DROPPED
MASK = _MASK


@micropython.viper
def put(buf, ts: int, kind: int, task: int, arg: int):
    """Append one record to the main ring ``buf``. Allocation-free; scheduler context."""
    p = ptr32(buf)
    i = p[_POS]
    j = HEADER + (i << 2)
    p[j] = ts & _MASK
    p[j + 1] = kind
    p[j + 2] = task
    p[j + 3] = arg
    i += 1
    if i == p[_SIZE]:
        i = 0
    p[_POS] = i
    if p[_COUNT] < p[_SIZE]:
        p[_COUNT] = p[_COUNT] + 1
    elif p[_DROPPED] < _MASK:
        p[_DROPPED] = p[_DROPPED] + 1
    else:
        p[_DROPPED] = 0


@micropython.viper
def poll_records(buf, te: int, tid: int) -> int:
    """Write POLL_BEGIN (at the header's ``_START``, µs ticks) where the poll began in the
    ring, moving the
    records made during the poll up by one, and POLL_END (at ``te``, a yield) after them.
    Returns the
    number of side-ring records waiting to be moved (``Trace.drain``). Allocation-free."""
    p = ptr32(buf)
    tb = p[_START]
    te &= _MASK
    p[_START] = te  # the next poll begins when this one ends
    size = p[_SIZE]
    pos = p[_POS]
    b = p[_BEGIN]
    k = pos - b
    if k < 0:
        k += size
    if k >= size - 1:  # the poll recorded a whole ring: no room to slot the begin in
        b = pos
        k = 0
    dst = pos
    while k > 0:
        src = dst - 1
        if src < 0:
            src = size - 1
        d = HEADER + (dst << 2)
        s = HEADER + (src << 2)
        p[d] = p[s]
        p[d + 1] = p[s + 1]
        p[d + 2] = p[s + 2]
        p[d + 3] = p[s + 3]
        dst = src
        k -= 1
    j = HEADER + (b << 2)
    p[j] = tb
    p[j + 1] = _POLL_BEGIN
    p[j + 2] = tid
    p[j + 3] = 0
    e = pos + 1
    if e == size:
        e = 0
    j = HEADER + (e << 2)
    p[j] = te
    p[j + 1] = _POLL_END
    p[j + 2] = tid
    p[j + 3] = _END_YIELD
    pos = e + 1
    if pos == size:
        pos = 0
    p[_POS] = pos
    p[_BEGIN] = pos
    c = p[_COUNT] + 2
    if c > size:
        d = p[_DROPPED] + c - size
        if d > _MASK:
            d = d - _MASK - 1
        p[_DROPPED] = d
        c = size
    p[_COUNT] = c
    return p[_SIDE]


@micropython.native
def park_what(slot):
    """What a parked task waits on: a ``kinds.PARK_*`` value. Allocation-free."""
    wl = slot.waiting_on
    if wl is not None:
        return getattr(wl, "waits_for", 0)
    if slot.w[4] < 0xFFFF:  # slot.timer armed (task/words.py W_TPOS)
        return _PARK_TIMER
    return 0
