# Failures at the interrupt level: a Ctrl-C inside one of its tasks reaches the thread level
# through service() and the other tasks still run; allocations of the level fail while the
# code it preempted holds the heap lock (docs/preemption.md).
from shimeji import InterruptScheduler, WaitCell, port
from support import micropython_only, raises


def test_a_ctrl_c_in_the_level_is_raised_by_service_and_the_rest_still_runs():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    cell2 = WaitCell()
    log = []

    async def interrupted():
        await cell.wait()
        raise KeyboardInterrupt

    async def other():
        await cell2.wait()
        log.append("other ran")

    h = isr.spawn(interrupted())
    isr.spawn(other())
    port.check_point()
    cell.wake()
    cell2.wake()
    port.check_point()
    with raises(KeyboardInterrupt):
        isr.service()
    port.check_point()
    assert h.is_cancelled() and log == ["other ran"]
    assert isr.error is None and isr.tasks() == []
    isr.service()  # raised once only


@micropython_only
def test_the_level_cannot_allocate_inside_a_heap_locked_section():
    import micropython

    isr = InterruptScheduler(4)
    cell = WaitCell()

    async def allocating():
        await cell.wait()
        return [1, 2, 3]

    h = isr.spawn(allocating())
    port.check_point()
    micropython.heap_lock()
    try:
        cell.wake()
        for _ in range(10):  # check points: the level runs here, inside the lock
            pass
    finally:
        micropython.heap_unlock()
    assert h.is_complete()
    with raises(MemoryError):
        h.result()
    assert isr.error is None and isr.tasks() == []
