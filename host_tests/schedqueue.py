"""MicroPython's ``micropython.schedule`` queue, for the tests that schedule callbacks:
``flush_schedule_queue`` leaves nothing of theirs in it."""
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"


def _nothing(_):
    pass


def flush_schedule_queue():
    """Overwrite every slot of MicroPython's ``micropython.schedule`` queue with a callback
    that reaches nothing, and run them. The queue is a ring of GC roots that keep their last
    callback after it ran: a test's own callback, a closure over its executor and handles,
    kept the executor (107 KB on the ESP32-C3, found with tools/heapwhy.py). Nothing to do
    on CPython."""
    if not IS_MICROPYTHON:
        return
    import micropython

    for _ in range(64):  # until the queue is full: every slot then holds _nothing
        try:
            micropython.schedule(_nothing, None)
        except RuntimeError:
            break
    for _ in range(20):  # a backward jump: MicroPython runs scheduled callbacks here
        pass
