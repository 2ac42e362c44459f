"""Lazy names for the package ``__init__`` modules (after MicroPython's ``asyncio/__init__``).

A package lists its public names and the module each lives in; a name's module is imported
the first time the name is used, and the name is then stored in the package, so later uses
cost a plain attribute lookup. ``import shimeji.sync`` therefore loads the sync modules only
when their names are used, and a firmware that needs a mutex does not pay for CFS.
"""

import gc
import sys

TABLES = {}  # package name -> its table of lazy names (tools read it through entries())


def lazy_names(package, table):
    """A module ``__getattr__`` for ``package`` that resolves the names in ``table``.

    ``table`` gives each public name the absolute path of the module that defines it
    (``"shimeji.sync.mutex"``), ``"module:attr"`` when the module calls it ``attr``, or
    ``"module:"`` when the name is the module itself: as pairs in one flat tuple of string
    literals, ``("Mutex", "shimeji.sync.mutex", ...)``, or as a dict. The tuple is a constant:
    frozen, it stays in flash, where a dict literal is built in the heap at import (~8 B a name
    on a 32-bit board: ~1.4 KB for the tables a firmware that spawns and joins loads). A name
    is looked up in it once (then it is the package's attribute): a scan is cheap enough.
    """
    TABLES[package] = table

    def getattr_(attr):
        where = _where(table, attr)
        if where is None:
            if attr == "__all__":  # ``from shimeji import *``: see _public_names
                return _public_names(package, table)
            # ``from shimeji.sched import background``: MicroPython asks this function before
            # it looks for a submodule, so look for one here.
            try:
                value = __import__(package + "." + attr, None, None, ("*",), 0)
            except ImportError:
                msg = "module '%s' has no attribute '%s'" % (package, attr)
                raise AttributeError(msg) from None
            setattr(sys.modules[package], attr, value)
            return value
        path, sep, name = where.partition(":")
        # load(path) in line: a call more per lazy hop is ~200 B more of the C stack a chain
        # of imports takes, and qemu's leaves a few hundred (docs/boards.md)
        if _COLLECT and path not in sys.modules:
            gc.collect()
        mod = __import__(path, None, None, ("*",), 0)
        value = mod if sep and not name else getattr(mod, name or attr)
        setattr(sys.modules[package], attr, value)
        return value

    return getattr_


# Where shimeji's code loads into the heap (``.mpy`` files in /lib, or source), a module's
# code takes blocks of up to ~5 KB (one per native function, sched/fastpath.py's tick_fifo the
# largest). MicroPython collects only when an allocation fails, so without a collection first
# the new code goes above whatever garbage the program left, into the heap's largest free
# run, and cuts it up; after one it fills the holes the garbage leaves. Frozen (code in
# flash) and on CPython: no collection.
def _code_in_heap():
    # Frozen, ``__file__`` is the module's path inside the firmware ("shimeji/_lazy.py"), no
    # file of the filesystem: opening it fails. From /lib or from source it opens.
    path = globals().get("__file__")
    if sys.implementation.name != "micropython" or path is None:
        return False
    try:
        open(path).close()
    except OSError:
        return False
    return True


_COLLECT = _code_in_heap()


def load(path):
    """Import the module ``path`` (absolute), collecting garbage first where its code goes
    into the heap and it is not loaded yet. Not ISR-safe (it imports)."""
    if _COLLECT and path not in sys.modules:
        gc.collect()
    return __import__(path, None, None, ("*",), 0)


def _where(table, attr):
    """Where ``table`` says ``attr`` lives; None if it does not name it."""
    if type(table) is dict:
        return table.get(attr)
    for i in range(0, len(table), 2):
        if table[i] == attr:
            return table[i + 1]
    return None


def entries(package):
    """``{name: where}`` of ``package``'s lazy names (an empty dict for a package without
    them): for tools and tests. Allocates."""
    table = TABLES.get(package, ())
    if type(table) is dict:
        return dict(table)
    return {table[i]: table[i + 1] for i in range(0, len(table), 2)}


def _public_names(package, table):
    """``__all__`` of a lazy package, made when asked (``from shimeji import *``): its lazy
    names and its other public names that are not modules. Without it MicroPython's
    ``import *`` fails (it asks the module's ``__getattr__`` for ``__all__`` and does not fall
    back), and CPython's takes only the names already loaded. It loads every module the
    names live in: ``from shimeji import *`` costs ~250 KB of heap on the unix port."""
    mod = sys.modules[package]
    # (not entries(): a dict of every name at once, ~1.4 KB of the STM32's heap for shimeji's)
    names = list(table) if type(table) is dict else [table[i] for i in range(0, len(table), 2)]
    for n, v in mod.__dict__.items():
        if n[0] != "_" and n not in names and type(v) is not type(sys) and v is not lazy_names:
            names.append(n)
    return names
