# A KeyboardInterrupt inside a task stops the run loop once; the task's joiners see it as
# cancelled instead of raising the interruption again, on both tick paths.
from shimeji import Cancelled, FifoPolicy, PriorityPolicy, StaticScheduler, yield_now


def _run(policy):
    s = StaticScheduler(4, policy=policy)
    log = []

    async def interrupted():
        await yield_now()
        raise KeyboardInterrupt

    victim = s.spawn(interrupted())

    async def joiner():
        try:
            await victim
        except Cancelled as e:
            log.append(("joiner saw", str(e)))

    s.spawn(joiner())
    raised = 0
    for _ in range(10):
        try:
            if not s.tick().has_remaining:
                break
        except KeyboardInterrupt:
            raised += 1
    assert raised == 1
    assert log == [("joiner saw", "the task was interrupted by KeyboardInterrupt")]
    assert victim.is_cancelled() and s.live_count() == 0


def test_keyboard_interrupt_reaches_the_loop_once_fifo_fast_path():
    _run(FifoPolicy())


def test_keyboard_interrupt_reaches_the_loop_once_general_path():
    _run(PriorityPolicy())
