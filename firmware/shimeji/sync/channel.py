"""``Channel``: a bounded FIFO of items between tasks and interrupt handlers.

The items live in a ring made at construction (``capacity`` entries), so sending and
receiving allocate nothing. ``await ch.send(x)`` waits while the ring is full; ``await
ch.recv()`` waits while it is empty. ``try_send`` and ``try_recv`` never wait: an interrupt
handler feeds a task with ``try_send``. ``close()`` wakes every waiter: senders get
``ChannelClosed``, receivers first drain what is buffered, then get ``ChannelClosed``.

``item = await ch.recv()`` returns its value through a ``StopIteration``: the scheduler's one
pre-made instance where the value probe of ``_values.py`` holds (MicroPython with native
code), so it allocates nothing; elsewhere (CPython, a bytecode-only build) a new one per item
that is not None. ``await ch.ready()`` then ``ch.try_recv()`` allocates nothing everywhere.

Design note: a woken sender holds the space it was woken for (``_space_held``) and a woken
receiver the item (``_items_held``) until it runs, so a task that arrives in between waits
behind it instead of taking them: senders and receivers are served in FIFO order. Only
``try_send``/``try_recv`` (an interrupt handler) look at the ring alone; a woken task that finds
its chance taken by one goes back to the head of its queue. A woken task that is cancelled
hands what it held to the next waiter (see ``waitqueue.py``), so no item is stranded.
"""

import micropython

from .. import core
from ..errors import ChannelClosed, InvalidCapacity
from .waitqueue import (
    CLOSED,
    WAITING,
    WOKEN,
    Awaitable,
    WaitQueue,
    accept,
    exit_of,
    finish_with,
    own_next,
    section,
)

MAX_CAPACITY = 0x3FFFFFFF  # the ring's counts stay small ints on 32-bit boards


def _closed():
    return ChannelClosed("this Channel was closed: stop sending/receiving, or make a new one")


class Channel:
    """A bounded channel of ``capacity`` items (at least 1). ``critical_section``: default the
    runtime's."""

    def __init__(self, capacity, critical_section=None):
        if type(capacity) is not int or capacity < 1 or capacity > MAX_CAPACITY:
            raise InvalidCapacity("Channel(capacity) needs an int of at least 1, at most %d "
                                  "(got %r): items are buffered in a ring of that size; use a "
                                  "WaitCell or Event for a signal without data"
                                  % (MAX_CAPACITY, capacity))
        try:
            ring = [None] * capacity
        except MemoryError:  # (the heap's answer: said as what to change)
            raise InvalidCapacity("Channel(%d): no room for a ring of %d items in the heap: give "
                                  "a smaller capacity" % (capacity, capacity)) from None
        cs = section(critical_section)
        self.critical_section = cs
        self._enter = cs.enter
        self._exit = exit_of(cs)
        self.capacity = capacity
        self._ring = ring
        self._head = 0
        self._count = 0
        self._space_held = 0  # free entries promised to woken senders
        self._items_held = 0  # buffered items promised to woken receivers
        self.closed = False
        self._receivers = WaitQueue(cs, self._receiver_abandoned)
        self._senders = WaitQueue(cs, self._sender_abandoned)
        self._send = _Send(self)
        self._recv = _Recv(self, True)
        self._ready = _Recv(self, False)

    def __len__(self):
        """Items buffered now. ISR-safe."""
        return self._count

    def is_full(self):
        """ISR-safe."""
        return self._count == self.capacity

    def is_empty(self):
        """ISR-safe."""
        return self._count == 0

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def try_send(self, item):
        """Buffer ``item`` if there is room; True on success, False if full or closed (check
        ``closed``). Wakes one receiver. ISR-safe, allocation-free."""
        state = self._enter()
        try:  # (_put wakes a receiver)
            if self.closed or self._count == self.capacity:
                return False
            self._put(item)
            return True
        finally:
            self._exit(state)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def try_recv(self, default=None):
        """The oldest item, or ``default`` if none is buffered. Wakes one sender. ISR-safe,
        allocation-free."""
        state = self._enter()
        try:  # (_take wakes a sender)
            if self._count == 0:
                return default
            return self._take()
        finally:
            self._exit(state)

    def send(self, item):
        """Awaitable: buffer ``item``, waiting while the channel is full (senders in FIFO
        order). Raises ``ChannelClosed`` if it is or gets closed (the item is then not sent).
        Allocates nothing. Not ISR-safe: await it at once in a task (the item waits in the
        task's slot)."""
        core.current_slot().wait_value = item
        return self._send

    def recv(self):
        """Awaitable: the oldest item, waiting while the channel is empty. Raises
        ``ChannelClosed`` once closed and drained. Allocates nothing on MicroPython with native
        code; elsewhere a ``StopIteration`` per item that is not None (see the module note).
        Not ISR-safe (tasks only)."""
        return self._recv

    def ready(self):
        """Awaitable: wait until an item is buffered (then take it with ``try_recv()``, which
        may still find it gone to a faster receiver). Raises ``ChannelClosed`` once closed and
        drained. Allocates nothing. Not ISR-safe (tasks only)."""
        return self._ready

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def close(self):
        """Refuse new items and wake every waiter (see the module docstring). ISR-safe."""
        state = self._enter()
        try:
            self.closed = True
            self._senders.closed = True
            self._receivers.closed = True
            self._senders.release_all(CLOSED)
            self._receivers.release_all(CLOSED)
        finally:
            self._exit(state)

    # -- the ring; the caller holds the section --------------------------------------------------

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _put(self, item):
        i = self._head + self._count
        if i >= self.capacity:
            i -= self.capacity
        self._ring[i] = item
        self._count += 1
        if self._receivers.head is not None:
            try:
                self._admit_receivers()
            except BaseException as e:  # a receiver's wake raised: nothing was sent (send again)
                self._ring[i] = None
                self._count -= 1
                raise e

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _take(self):
        head = self._head
        item = self._ring[head]
        self._ring[head] = None
        self._head = 0 if head + 1 == self.capacity else head + 1
        self._count -= 1
        if self._senders.head is not None:
            try:
                self._admit_senders()
            except BaseException as e:  # a sender's wake raised: nothing was taken (take again)
                self._ring[head] = item
                self._head = head
                self._count += 1
                raise e
        return item

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _admit_senders(self):
        # Wake the oldest senders while a free entry is not yet promised to one.
        q = self._senders
        while q.head is not None and self._count + self._space_held < self.capacity:
            self._space_held += 1
            try:
                q.grant_head()
            except BaseException as e:  # that sender still waits (q.grant): nothing promised
                self._space_held -= 1
                raise e

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _admit_receivers(self):
        # Wake the oldest receivers while a buffered item is not yet promised to one.
        q = self._receivers
        while q.head is not None and self._count > self._items_held:
            self._items_held += 1
            try:
                q.grant_head()
            except BaseException as e:  # that receiver still waits (q.grant): nothing promised
                self._items_held -= 1
                raise e

    def _sender_abandoned(self, slot):
        # A woken sender was cancelled before it ran: its space goes to the next one.
        self._space_held -= 1
        self._admit_senders()

    def _receiver_abandoned(self, slot):
        # A woken receiver was cancelled before it ran: its item goes to the next one.
        self._items_held -= 1
        self._admit_receivers()


class _Send(Awaitable):
    def __init__(self, ch):
        self.ch = ch
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        ch = self.ch
        q = ch._senders
        first = me.wait_phase == 0
        if not first and me.wait_status == WAITING:
            return _park
        state = ch._enter()
        try:  # (_put wakes a receiver)
            if not first and accept(me) == WOKEN:
                ch._space_held -= 1  # the space this task was woken for: its own now
            if ch.closed:
                sent = -1
            elif ch._count + ch._space_held < ch.capacity:
                ch._put(me.wait_value)
                sent = 1
            else:
                if first:
                    q.link(me)
                else:
                    q.link_front(me)
                me.wait_phase = 1
                return _park
        finally:
            ch._exit(state)
        me.wait_value = None
        if sent < 0:
            raise _closed()
        raise self._finish.done()


class _Recv(Awaitable):
    def __init__(self, ch, take):
        self.ch = ch
        self.take = take  # recv() takes the item; ready() only waits for one
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        ch = self.ch
        first = me.wait_phase == 0
        if not first and me.wait_status == WAITING:
            return _park
        state = ch._enter()
        try:  # (_take wakes a sender)
            if not first and accept(me) == WOKEN:
                ch._items_held -= 1  # the item this task was woken for: its own now
            if ch._count > ch._items_held:
                got = True
                item = ch._take() if self.take else None
            elif ch.closed:
                got = False
            else:
                if first:
                    ch._receivers.link(me)
                else:
                    ch._receivers.link_front(me)
                me.wait_phase = 1
                return _park
        finally:
            ch._exit(state)
        if not got:
            raise _closed()
        if not self.take:
            raise self._finish.done()
        raise finish_with(self._finish, item, me)
