"""The hot paths' names on look-up cache entries of their own (shimeji/_names.py).

On MicroPython a name's entry in the map look-up cache is ``(word >> 2) % 128`` of its object
word (``id()`` of an interned name is that word). ``place`` interns the names not interned yet
so that none shares an entry with another name of its list; under CPython it does nothing."""

import sys

from shimeji import _names

IS_MICROPYTHON = sys.implementation.name == "micropython"


def _entry(s):
    return (id(s) >> 2) % 128


def _unique_names(tag, n):
    """``n`` space-separated names, as bytes, that nothing has interned yet (made at run time:
    a str literal of at most 10 characters is interned when this module is compiled)."""
    return b" ".join(("_nm%s_%d_name" % (tag, i)).encode() for i in range(n))


def test_place_puts_new_names_on_entries_of_their_own():
    # Two names MicroPython interned itself (their entries are fixed) among 30 new ones.
    names = b"id " + _unique_names("a", 15) + b" coro " + _unique_names("b", 15)
    placed, pads = _names.place(names)
    if not IS_MICROPYTHON:
        assert (placed, pads) == (0, 0)  # under CPython: nothing done
        return
    assert placed == 30
    assert 2 <= pads <= 24
    words = [b.decode() for b in names.split()]
    for s in words:  # every one interned now: decoding gives the interned name itself
        assert id(s) == id(s.encode().decode())
    # The two fixed names may share an entry with each other (the firmware's qstr numbers
    # decide: on the qemu firmware of session 14 "id" and "coro" both sit on entry 54); each
    # new name has one of its own, none of theirs.
    fixed = {_entry(s) for s in ("id", "coro")}
    entries = [_entry(s) for s in words if s not in ("id", "coro")]
    assert len(entries) == 30
    assert len(set(entries)) == len(entries) and not fixed & set(entries), (fixed, entries)


def test_place_again_places_nothing():
    names = _unique_names("c", 5)
    first = _names.place(names)
    assert _names.place(names) == (0, 0)  # every name interned by the first call
    assert first == ((5, first[1]) if IS_MICROPYTHON else (0, 0))


def test_the_package_placed_its_names_at_import():
    placed, pads = _names.stats
    assert 0 <= pads <= 24
    if not IS_MICROPYTHON:
        assert (placed, pads) == (0, 0)
    for b in _names.names.split():  # however many were interned before: each one is now
        s = b.decode()
        assert id(s) == id(b.decode()) if IS_MICROPYTHON else s == b.decode()


def test_the_slots_words_address_is_placed_on_an_entry_of_its_own():
    # The FIFO tick reads ``slot.wa`` at every poll: left off the list (until session 26) it
    # shared an entry with ``handle`` or ``_local_tail`` in most layouts, two hashed look-ups
    # a joined spawn.
    names = _names.names.split()
    assert b"wa" in names
    if not IS_MICROPYTHON:
        return
    placed = {}
    for b in names:
        s = b.decode()
        placed.setdefault(_entry(s), []).append(s)
    s = b"wa".decode()  # (bytes: a str literal is interned when this module compiles)
    assert placed[_entry(s)] == [s], placed  # (MicroPython's own names may share theirs)
