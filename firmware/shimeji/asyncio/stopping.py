"""How the facade's loop stops and reports: the pre-made exception that ends a tick when
``run_until_complete``'s task finishes, the awaitable of ``run_forever``'s stop task, and the
report of a task exception that nobody retrieved (MicroPython's message and context), and
``Loop``'s ``run_forever``/``stop`` (``LoopStopping``). Cold paths, kept out of ``loop``."""

import sys

from .. import core
from ..task.slot import _value_of
from .task import Task


class _StopTick(BaseException):
    pass


_stop_tick = _StopTick()


def _report_context(task):
    return {"message": "Task exception wasn't retrieved", "exception": _value_of(task._ref),
            "future": task}


async def _report(loop, task):
    # Runs one round after a detached task failed: if nobody awaited it meanwhile, report.
    loop._reports.pop(task, None)
    if task.state is None:
        task.data = _value_of(task._ref)
        context = _report_context(task)
        try:
            loop.call_exception_handler(context)
        except Exception as e:  # (CPython's loop logs it and goes on; this task is detached)
            print("Unhandled error in exception handler", file=sys.stderr)
            print("context:", context["message"], context["exception"], file=sys.stderr)
            _print_exception(e)


class _Stopper:
    """Awaitable of ``run_forever``'s stop task: done once ``stop()`` was called."""

    def __init__(self, loop):
        self.loop = loop

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.loop._stopping:
            raise StopIteration
        return core.PARK


async def _stop_task(stopper):
    await stopper


class LoopStopping:
    """``run_forever`` and ``stop``, methods of ``Loop``. Not ISR-safe."""

    def run_forever(self):
        """Run until ``stop()`` is called (from a task)."""
        if self.sched._polling:
            raise _already_running()
        self._stopping = False
        stopper = _Stopper(self)
        t = Task(_stop_task(stopper))
        self.sched.spawn_task(t, t.coro)
        self._stop_waiter = t
        try:
            self._run(t)
        finally:
            self._stop_waiter = None
            self._stopping = False

    def stop(self):
        """Make ``run_forever`` return once the tasks runnable now have run."""
        t = self._stop_waiter
        if t is not None and not self._stopping:
            self._stopping = True
            slot = t._live_slot()
            if slot is not None:
                self.sched.wake(slot)


def _already_running():
    return RuntimeError("the event loop is already running: await the coroutine (or "
                        "create_task it) instead of calling run() inside a task")


def _print_exception(exc):
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc, sys.stderr)
    else:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
