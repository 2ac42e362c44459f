"""The asyncio shield: awaiting asyncio's own awaitables in a shimeji task raises
``ForeignAwaitable`` instead of confusing (or, on MicroPython, crashing) asyncio.

Design note: asyncio's awaitables do their work *before* they yield to the loop. On MicroPython
``asyncio.sleep_ms`` pushes ``asyncio.core.cur_task`` onto its C task queue, and with asyncio's
loop not running that is ``None``: the C queue writes into it and the VM dies with a
segmentation fault before shimeji sees anything. So while a scheduler ticks, the shield takes
away what those awaitables reach for, and each of them raises at its first step instead:

- MicroPython: in ``asyncio.core``, ``cur_task`` is removed (a module ``__getattr__`` raises
  for it; the C code raises ``KeyError``) and ``_task_queue``/``_io_queue`` become a guard
  whose attributes raise. That covers sleep, sleep_ms, Event.wait, Lock.acquire,
  ThreadSafeFlag.wait, gather, wait_for and create_task.
- CPython: ``asyncio.events``' running-loop getters and ``asyncio.tasks``' zero sleep raise.

Everything is put back when the tick ends, so asyncio works as before between ticks and when a
scheduler is ticked from inside an asyncio task. ``RunLoop.run`` and ``run_until_complete``
raise the shield once for their whole run instead of once per tick (the ticks then leave it
alone): timer callbacks and the idle primitive they call are shielded too; a tick with
nothing to poll does not raise it at all.

The cost per raise: until asyncio is imported, a look at ``len(sys.modules)`` (the search for
``asyncio.core`` runs again only when that changed); then, on MicroPython, three dictionary
stores up and three down. The module ``__getattr__`` that makes ``core.cur_task`` raise is put
into ``asyncio.core`` once, when the shield first finds it, and stays: Python asks a module's
``__getattr__`` only for a name its dictionary lacks, and ``cur_task`` is missing only while
the shield is up (asyncio.core has no ``__getattr__`` of its own; one that it had would be
asked for every other name, as before). Not thread-safe with respect to asyncio: do not run
asyncio's loop in another thread while a scheduler ticks. An awaitable that completes without
waiting (a free ``Lock``, a set ``Event``) never reaches the loop and simply returns.
"""

import sys

import micropython

from .. import port
from ..errors import ForeignAwaitable

_MODULES = sys.modules
_IS_MP = port.IS_MICROPYTHON
ADVICE = ("await shimeji's instead: shimeji.yield_now, shimeji.sleep_ms/sleep_us (for "
          "asyncio.sleep/sleep_ms), shimeji.Event, shimeji.Mutex (for asyncio.Lock), "
          "shimeji.WaitCell (for ThreadSafeFlag), the tasks' JoinHandles (for gather) and "
          "shimeji.timeout (for wait_for)")
MESSAGE = ("a shimeji task awaited one of asyncio's awaitables, which need asyncio's own loop: "
           + ADVICE)


def _refuse(*args, **kwargs):
    raise ForeignAwaitable(MESSAGE)


class _Guard:
    """Stands in for asyncio's task and I/O queues: any use raises ``ForeignAwaitable``."""

    def __getattr__(self, name):
        raise ForeignAwaitable(MESSAGE)


def _module_getattr(name):
    # asyncio.core's module __getattr__ from the shield's first raise on: asked only for a
    # name missing from the module, as cur_task is while the shield is up.
    if name == "cur_task":
        raise ForeignAwaitable(MESSAGE)
    own = shield.own_getattr
    if own is None:
        raise AttributeError(name)
    return own(name)


class _Shield:
    """State of the shield; one per interpreter. ``on()``/``off()`` nest (a task of one
    scheduler may tick another)."""

    def __init__(self):
        self.depth = 0
        self.active = False
        self.target = None  # asyncio.core's globals (MicroPython) or asyncio.events (CPython)
        self.modules = -1  # len(sys.modules) at the last search for asyncio (none found)
        self.guard = _Guard()
        self.saved = [None, None, None]  # MicroPython: cur_task, _task_queue, _io_queue
        self.own_getattr = None  # a __getattr__ asyncio.core had before the shield's
        self.patched = []  # CPython: module, name, saved value; three entries per hook

    # on() and off() run twice per tick: the module's names are default-argument locals
    # (a global is a hashed lookup in native code, a built-in such as len a second one).
    @micropython.native
    def on(self, _len=len, _modules=_MODULES, _mp=_IS_MP):
        depth = self.depth
        self.depth = depth + 1
        if depth:
            return
        g = self.target
        if g is None:
            n = _len(_modules)
            if n == self.modules:  # no module imported since the last search: no asyncio
                return
            self.modules = n
            g = self._find()
            if g is None:
                return
        if _mp:
            saved = self.saved
            guard = self.guard
            saved[0] = g.pop("cur_task", None)
            saved[1] = g["_task_queue"]
            g["_task_queue"] = guard
            saved[2] = g["_io_queue"]
            g["_io_queue"] = guard
        else:
            self._on_cpython()
        self.active = True

    def _find(self):
        # What to shield, once asyncio is imported (None until then). MicroPython: the
        # module's __getattr__ goes in here, once (see the module's note).
        if _IS_MP:
            mod = _MODULES.get("asyncio.core")
            if mod is not None:
                g = mod.__dict__
                own = g.get("__getattr__")
                if own is not _module_getattr:
                    self.own_getattr = own
                    g["__getattr__"] = _module_getattr
                self.target = g
        elif "asyncio.events" in _MODULES:
            self.target = _MODULES["asyncio.events"]
        return self.target

    @micropython.native
    def off(self, _mp=_IS_MP):
        depth = self.depth - 1
        self.depth = depth
        if depth:
            return
        if self.active:
            self.active = False
            if _mp:
                g = self.target
                saved = self.saved
                g["cur_task"] = saved[0]
                g["_task_queue"] = saved[1]
                g["_io_queue"] = saved[2]
                saved[0] = None  # (asyncio's task: not kept alive by the shield)
            else:
                self._off_cpython()

    def _on_cpython(self):
        patched = self.patched
        if not patched:  # once: what asyncio's awaitables look up at call time
            for mod, name in _CPYTHON_HOOKS:
                mod = _MODULES.get(mod)
                if mod is not None and name in mod.__dict__:
                    patched.append(mod)
                    patched.append(name)
                    patched.append(None)
        for i in range(0, len(patched), 3):
            mod = patched[i]
            name = patched[i + 1]
            patched[i + 2] = mod.__dict__[name]
            setattr(mod, name, _refuse)

    def _off_cpython(self):
        patched = self.patched
        for i in range(0, len(patched), 3):
            setattr(patched[i], patched[i + 1], patched[i + 2])
            patched[i + 2] = None


# CPython: asyncio's awaitables find the running loop (or the zero sleep) through these.
_CPYTHON_HOOKS = (
    ("asyncio.events", "_get_running_loop"),
    ("asyncio.events", "get_running_loop"),
    ("asyncio.events", "get_event_loop"),
    ("asyncio.events", "_get_event_loop"),
    ("asyncio.tasks", "current_task"),
    ("asyncio.tasks", "_" + "_sleep0"),
)

shield = _Shield()
