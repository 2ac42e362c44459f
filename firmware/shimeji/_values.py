"""``ValueFinish``: ending an awaitable with a value without allocating.

``raise StopIteration(value)`` allocates an exception and its args tuple per raise, and
MicroPython cannot change a made exception's value from Python: the value is item 0 of its args
tuple. On MicroPython, ``ValueFinish`` keeps one StopIteration and writes the value's object
word into that tuple with viper word copies (from a one-item list, where a plain store put it):
``await`` then takes it from the same exception each time. The layouts used (a tuple: type,
length, items; a list: type, alloc, length, items pointer) are checked at import by a probe;
anywhere the probe fails (CPython, a bytecode-only build without viper) ``done(value)`` raises a
new ``StopIteration(value)`` as before.
"""

import sys

import micropython

from . import port

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython (never called there)
    uint = int

_WORDS = 2 if port.IS_MICROPYTHON and sys.maxsize > 0xFFFFFFFF else 1  # ptr32 words per word


@micropython.viper
def _copy_word(dst: uint, src: uint, words: int):
    d = ptr32(dst)
    s = ptr32(src)
    d[0] = s[0]
    if words == 2:
        d[1] = s[1]


@micropython.viper
def _read_word(addr: uint, words: int) -> uint:
    p = ptr32(addr)
    lo = uint(p[0])
    if words == 2:
        return lo | (uint(p[1]) << 32)
    return lo


class ValueFinish:
    """Ends an awaitable with a value: ``raise vf.done(value)``. Allocation-free on MicroPython
    (see the module note). One per scheduler (``sched.value_finish``): the value sits in the
    shared exception from ``done`` until ``await`` takes it, and a scheduler polls one task at
    a time, so a task of another level or thread never overwrites it. Keeps a reference to the
    last value until the next one."""

    def __init__(self, probed=False):
        self.exc = None
        self.parts = None  # (exc, box, dst, src) once they work: one load for an in-line done
        if not port.IS_MICROPYTHON or not (probed or _VALUES_FREE):
            return
        exc = StopIteration(self)  # a one-item args tuple of its own (no shared constant)
        try:
            raise exc  # the first raise makes the traceback buffer; later raises reuse it
        except StopIteration:
            pass
        word = 4 * _WORDS
        box = [None]
        args = exc.args
        if _read_word(id(args) + word, _WORDS) != 1 or \
                _read_word(id(args) + 2 * word, _WORDS) != id(self):
            return  # not the tuple layout this relies on
        if _read_word(id(box) + 2 * word, _WORDS) != 1:
            return  # not the list layout this relies on
        self.dst = id(args) + 2 * word  # where the tuple keeps its item 0
        self.src = _read_word(id(box) + 3 * word, _WORDS)  # where the list keeps its item 0
        self.box = box
        box[0] = exc
        if _read_word(self.src, _WORDS) != id(exc):
            return
        box[0] = None
        self.exc = exc
        self.parts = (exc, box, self.dst, self.src)

    @micropython.native  # (defaults of the same names: no global read, no new qstr)
    def done(self, value, _copy_word=_copy_word, _WORDS=_WORDS, StopIteration=StopIteration):
        """The exception that ends the awaitable with ``value``: raise it at once."""
        exc = self.exc
        if exc is None:
            return StopIteration(value)
        self.box[0] = value
        _copy_word(self.dst, self.src, _WORDS)
        self.box[0] = None
        exc.__traceback__ = None
        return exc


class _ValueProbe:
    def __init__(self, vf):
        self.vf = vf
        self.value = None

    def __iter__(self):
        return self

    def __next__(self):
        raise self.vf.done(self.value)


async def _probe_values(probe, values, out):
    for v in values:
        probe.value = v
        out.append(await probe)


def _values_free():
    """True if a ValueFinish delivers values through ``await`` without allocating here."""
    if not port.IS_MICROPYTHON:
        return False
    try:
        vf = ValueFinish(True)
        if vf.exc is None:
            return False
        values = (1, "x", None, vf, -5)
        out = []
        coro = _probe_values(_ValueProbe(vf), values, out)
        try:
            coro.send(None)
        except StopIteration:
            pass
        return len(out) == len(values) and all(a is b for a, b in zip(out, values))
    except Exception:  # no viper (a bytecode-only build): allocate as before
        return False


_VALUES_FREE = False
_VALUES_FREE = _values_free()
