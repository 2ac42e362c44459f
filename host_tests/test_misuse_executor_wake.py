# An Executor's wakes given what is not a task slot (session 26's audit). ``ex.injector.wake``
# (the executor's queue of tasks spawned from outside, which a task's slot names as its
# scheduler while it waits there) read ``slot.sched`` inside the executor's critical section:
# a JoinHandle or None raised AttributeError there and left the section held, so the
# executor's next spawn was refused with WrongLevel (on a board, interrupts stayed masked).
# Now BadArgument, before the section, as a worker's own ``wake`` (a StaticScheduler's) says;
# afterwards the same executor runs tasks, the one queued before the refusal among them.
from shimeji import BadArgument, Executor, yield_now
from support import needs_thread_module, raises

_SAYS = "wake(slot): give the task's TaskSlot"


async def _value(x):
    await yield_now()
    return x


@needs_thread_module  # an Executor is built on _thread (one worker: no thread started)
def test_the_injectors_wake_refuses_what_is_not_a_slot_and_leaves_the_section_free():
    ex = Executor(workers=1, capacity=4)
    queued = ex.spawn(_value("queued"))  # waits in the injector until a worker takes it
    for bad in (queued, None, 3, ex):
        with raises(BadArgument, _SAYS):
            ex.injector.wake(bad)
        assert not ex.critical_section.held()
    for bad in (queued, None):
        with raises(BadArgument, _SAYS):
            ex.workers[0].wake(bad)
        assert not ex.critical_section.held()

    async def main():
        return (await queued), (await ex.spawn(_value(2)))

    assert ex.run(main()) == ("queued", 2)
