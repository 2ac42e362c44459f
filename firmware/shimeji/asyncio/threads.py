"""CPython's ``to_thread`` and ``loop.run_in_executor(None, func, *args)``: a blocking function
run in a thread of its own, its outcome awaited as a ``Future``.

The thread hands the outcome back with ``loop.call_soon_threadsafe``, so the Future is set in
the loop's thread (an idle loop wakes for it). Each call starts a thread: there is no pool
(MicroPython has no ``concurrent.futures``). Cancelling the awaiting task cancels the Future;
the thread runs on, as in CPython, and its outcome is dropped. Ports without ``_thread``
raise ``NoThreads``; a port that runs one extra thread at a time (the RP2040: core 1) raises
its ``OSError`` at the second concurrent call. Not ISR-safe.
"""

from ..errors import BadArgument, NoThreads
from .futures import Future


def start_in_thread(loop, func, args):
    """A ``Future`` of ``loop`` that ``func(*args)``, run in a new thread, settles."""
    try:
        import _thread
    except ImportError:
        raise NoThreads("to_thread()/run_in_executor() need _thread, which this MicroPython "
                        "port does not have: run the blocking call in a task instead, with "
                        "await sleep(0) between its steps") from None
    fut = Future(loop)

    def run():
        try:
            value = func(*args)
        except BaseException as e:  # noqa: BLE001 (handed to the awaiting task)
            loop.call_soon_threadsafe(_settle, fut, e, True)
            return
        loop.call_soon_threadsafe(_settle, fut, value, False)

    _thread.start_new_thread(run, ())
    return fut


def _settle(fut, value, failed):
    if fut.done():  # (cancelled meanwhile: the outcome is dropped)
        return
    if failed:
        fut.set_exception(value)
    else:
        fut.set_result(value)


async def to_thread(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` in a thread of its own and return its result (or raise
    its exception), without blocking the loop."""
    from .loop import get_running_loop

    if kwargs:
        call = func

        def func(*a):
            return call(*a, **kwargs)

    return await start_in_thread(get_running_loop(), func, args)


def check_executor(executor):
    if executor is not None:
        raise BadArgument("run_in_executor(executor, ...): only None is supported here (each "
                          "call runs in a thread of its own; MicroPython has no "
                          "concurrent.futures), got %r" % (executor,))
