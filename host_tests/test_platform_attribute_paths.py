# Attribute loads and stores from native and viper code keep Python's rules. On our RP2040
# board they take the bytecode VM's instance fast path (boards/rp2040/attrs: MicroPython's
# mp_load_attr and mp_store_attr wrapped at link time; docs/boards.md, "RP2040, session 26");
# on every runtime the results are the same: an instance's own member, a class attribute, a
# bound method, a property's getter and setter, __getattr__ for a missing name, __setattr__,
# a delete, AttributeError, a class's own attributes.
import shimeji  # noqa: F401 (on CPython: installs the micropython stand-in)
from support import _Skipped

micropython = __import__("micropython")  # (under CPython: the stand-in shimeji installed)


@micropython.native
def load(o):
    return o.x


@micropython.native
def store(o, v):
    o.x = v


@micropython.native
def delete(o):
    del o.x


@micropython.viper
def vload(o) -> object:
    return o.x


@micropython.viper
def vstore(o, v):
    o.x = v


class Plain:
    x = "class"

    def m(self):
        return self


class WithProperty:
    def __init__(self):
        self.log = []

    @property
    def x(self):
        return "got"

    @x.setter
    def x(self, v):
        self.log.append(v)


class Derived(WithProperty):  # the accessors' flag is inherited
    pass


class WithGetattr:
    def __getattr__(self, name):
        return "missing " + name


class Recorder:
    def __setattr__(self, name, value):
        Recorder.seen.append((name, value))


Recorder.seen = []


def _setattr_runs():
    r = Recorder()
    r.y = 1
    return Recorder.seen == [("y", 1)]


def needs_setattr(fn):
    if not _setattr_runs():  # (a port built without MICROPY_PY_DELATTR_SETATTR)
        return _Skipped(fn, "this runtime does not call __setattr__")
    return fn


def test_an_instance_member_is_stored_and_loaded_from_native_and_viper_code():
    o = Plain()
    assert load(o) == "class" and vload(o) == "class"  # not a member yet: the class's
    store(o, 1)
    assert load(o) == 1 and vload(o) == 1 and o.x == 1
    vstore(o, 2)
    assert load(o) == 2 and o.x == 2
    assert Plain.x == "class"  # the store made a member; the class is unchanged
    delete(o)
    assert load(o) == "class" and vload(o) == "class"


def test_a_method_is_bound_and_a_missing_name_raises_attribute_error():
    o = Plain()

    @micropython.native
    def method(o):
        return o.m

    assert method(o)() is o

    @micropython.native
    def missing(o):
        return o.nothing

    try:
        missing(o)
    except AttributeError:
        pass
    else:
        raise AssertionError("a missing attribute loaded")


def test_a_property_runs_its_getter_and_setter_also_in_a_subclass():
    for cls in (WithProperty, Derived):
        o = cls()
        store(o, 5)
        vstore(o, 6)
        assert o.log == [5, 6]
        assert load(o) == "got" and vload(o) == "got"


def test_getattr_answers_only_for_a_missing_name():
    o = WithGetattr()
    assert load(o) == "missing x"
    store(o, 3)
    assert load(o) == 3 and vload(o) == 3


@needs_setattr
def test_setattr_takes_every_store():
    del Recorder.seen[:]
    r = Recorder()
    store(r, 7)
    vstore(r, 8)
    assert Recorder.seen == [("x", 7), ("x", 8)]


def test_a_class_gives_and_takes_its_own_attributes():
    assert load(Plain) == "class"

    class Holder:
        pass

    store(Holder, "stored")
    assert Holder.x == "stored" and load(Holder) == "stored" and load(Holder()) == "stored"
