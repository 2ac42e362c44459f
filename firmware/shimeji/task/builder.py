"""``TaskBuilder``: settings for the next task (name, priority, a caller-owned slot)."""


class TaskBuilder:
    """Settings for the next task: ``sched.build_task().name("led").spawn(blink())``.

    The scheduler keeps one builder and resets it on each ``build_task()``, so building a task
    allocates nothing. Policies read ``priority`` (``set_priority`` semantics of the policy).
    """

    def __init__(self, sched):
        self._sched = sched
        self.reset()

    def reset(self):
        """Forget the settings (``build_task()`` does it). Not ISR-safe."""
        self._name = None
        self._priority = None
        self._slot = None
        return self

    def name(self, name):
        """The task's name (``current_task().name``, ``tasks()``, traces). Not ISR-safe."""
        self._name = name
        return self

    def priority(self, priority):
        """Priority or nice value, as the scheduler's policy understands it. Not ISR-safe."""
        self._priority = priority
        return self

    def slot(self, slot):
        """Run the task in this caller-owned ``TaskSlot`` instead of a pool slot. Not
        ISR-safe."""
        self._slot = slot
        return self

    def spawn(self, coro):
        """Spawn ``coro`` with these settings; returns its ``JoinHandle``. A refused spawn
        (``PoolFull``, ``BadPriority``...) spawns nothing; the builder is reset either way.
        Not ISR-safe."""
        sched = self._sched
        prio = self._priority
        try:
            if prio is not None:  # checked first: a task must not start on a refused call
                check = getattr(sched.policy, "check_priority", None)
                if check is not None:
                    check(prio)
            if self._slot is None:
                h = sched.spawn(coro, self._name)
            else:
                h = sched.spawn_allocated(self._slot, coro, self._name)
            if prio is not None:
                sched.set_priority(h, prio)
        finally:
            self.reset()
        return h
