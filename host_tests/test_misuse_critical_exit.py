# A critical section's ``exit(state)`` with no ``enter()`` to match (left by session 25), and
# ``__exit__`` called without a ``with``. Before: a LockCriticalSection raised RuntimeError
# ("cannot release un-acquired lock"); on MicroPython an exit(1) made its nesting count -1,
# and an exit from a thread that did not hold it freed the lock another thread held. A
# NoCriticalSection counted -1 (then held() said False inside the next section, and an
# interrupt level would run inside it); an IrqCriticalSection counted -1 and set the mask to
# the state given. ``__exit__`` left ``with``'s depth at -1. Now each is
# CriticalSectionMisuse saying to pair each exit with its enter, and nothing changes: the
# section is as it was, the primitives on it keep working. shimeji's own sections bind the
# kind's unchecked ``_exit_paired`` (``exit_of``), so the wakes pay nothing for the check.
from shimeji import (
    CriticalSectionMisuse,
    IrqCriticalSection,
    LockCriticalSection,
    NoCriticalSection,
    StaticScheduler,
    WaitCell,
    default_critical_section,
)
from support import HAS_THREADS, needs_threads, raises, start_thread, wait_until
from synchelp import StateMachine

_SAYS = "exit(state) without a matching enter(): call exit once per enter"


def _kinds():
    out = [NoCriticalSection(), IrqCriticalSection(StateMachine()), default_critical_section()]
    if HAS_THREADS:
        out.append(LockCriticalSection())
    return out


def _still_works(cs):
    s = StaticScheduler(2, critical_section=cs)
    cell = WaitCell(cs)
    got = []

    async def waiter():
        await cell.wait()
        got.append(1)

    s.spawn(waiter())
    s.tick()
    cell.wake()
    s.tick()
    assert got == [1] and not cs.held()


def test_an_exit_without_enter_is_refused_and_changes_nothing():
    for cs in _kinds():
        for state in (0, 1):
            with raises(CriticalSectionMisuse, _SAYS):
                cs.exit(state)
            assert not cs.held()
        state = cs.enter()
        assert cs.held()
        inner = cs.enter()
        cs.exit(inner)
        assert cs.held()  # (the refusals did not unbalance the nesting)
        cs.exit(state)
        assert not cs.held()
        with raises(CriticalSectionMisuse, _SAYS):
            cs.exit(state)  # once more: refused
        _still_works(cs)


def test_an_irq_section_exit_without_enter_leaves_the_mask_alone():
    m = StateMachine()
    cs = IrqCriticalSection(m)
    with raises(CriticalSectionMisuse, _SAYS):
        cs.exit(0)  # (it would have masked interrupts: enable_irq(0))
    assert m.irq == 1 and m.log == [] and cs.depth == 0


def test_exit_of_a_with_that_was_never_entered_is_refused():
    for cs in _kinds():
        with raises(CriticalSectionMisuse, _SAYS):
            cs.__exit__(None, None, None)
        assert cs._depth == 0 and not cs.held()
        with cs:
            with cs:
                assert cs.held()
        assert not cs.held() and cs._depth == 0


@needs_threads
def test_an_exit_from_a_thread_that_does_not_hold_it_leaves_the_holder_holding():
    cs = LockCriticalSection()
    state = cs.enter()
    seen = []

    def other():
        try:
            cs.exit(0)
        except CriticalSectionMisuse:
            seen.append("refused")
        seen.append(cs.try_enter())  # the holder still holds it: None

    start_thread(other)
    wait_until(lambda: len(seen) == 2, "the other thread's exit")
    assert seen == ["refused", None]
    assert cs.held()
    cs.exit(state)
    assert not cs.held()
    _still_works(cs)


def test_shimeji_binds_the_unchecked_exit_and_a_subclass_keeps_its_own():
    from shimeji.sync.critical import exit_of

    calls = []

    class Recording(NoCriticalSection):
        def exit(self, state):
            calls.append(state)
            NoCriticalSection.exit(self, state)

    plain = NoCriticalSection()
    assert exit_of(plain) == plain._exit_paired
    rec = Recording()
    assert exit_of(rec) == rec.exit
    _still_works(rec)
    assert calls  # the primitives left through the subclass's own exit
