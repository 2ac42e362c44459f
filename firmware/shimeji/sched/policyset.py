"""Choosing how a scheduler orders its tasks: ``set_policy`` and ``set_priority``.

``TaskLifecycle`` (lifecycle.py) takes these functions in as its methods; ``_check_level``, the
rule that a thread-level scheduler is not changed from an interrupt-level task, is shared with
its cancel and close. None of this is on a hot path: a policy is set while no task is
live, and ``set_priority`` is called by the application, not by the tick.
"""

from .. import core
from ..errors import BadArgument, PolicyError, SchedulerBusy, WrongLevel
from ..policy.fifo import FifoPolicy


def set_policy(self, policy):
    """Use ``policy`` from now on: a ``Policy`` object, or one of the names ``'fifo'``,
    ``'rr'``, ``'cfs'``, ``'priority'`` (that policy with its defaults). Only while no task
    is live: a policy's queues cannot be carried over. A policy object serves one
    scheduler; ``PolicyError`` for anything else. Not ISR-safe."""
    policy = _policy_of(policy)
    if self.policy is not None and self.live_count():
        raise SchedulerBusy("set_policy needs a scheduler with no live tasks: join or "
                            "cancel them first (live: %d)" % self.live_count())
    policy.bind(self)  # (a policy that keeps slot.pol zeroes their poll counts there)
    self.policy = policy
    self._add = policy.add
    self._pick = policy.pick
    self._put_back = policy.put_back
    self._charge = policy.charge if policy.needs_time else None
    # The FIFO fast path inlines FifoPolicy's queue (exactly FifoPolicy: a subclass may
    # override its methods, and then gets the general path).
    self._fifo = policy if type(policy) is FifoPolicy and not policy.needs_time else None

def _check_level(self, what):
    """Raise ``WrongLevel`` when a task of a higher level (an ``InterruptScheduler``'s)
    calls ``what`` here: this scheduler's queues may be half changed under it."""
    running = core.current_context().sched if core._threads else core.context.sched
    if running is not None and running.level > self.level and not core.off_home(running):
        raise WrongLevel("%s on a thread-level scheduler from an interrupt-level task: "
                         "hand the request over with a Channel or Event (see "
                         "docs/preemption.md)" % what)

def set_priority(self, handle, value):
    """Pass a priority (or nice value) for a live task to the policy; False if the task
    has finished. Raises ``PolicyError`` for a task of another scheduler. Not ISR-safe."""
    self._check_level("set_priority")
    live = getattr(handle, "_live_slot", None)
    if live is None:
        raise BadArgument("set_priority(handle, value): handle must be what spawn() returned, "
                          "got %r" % (handle,))
    slot = live()
    if slot is None:
        return False
    if slot.sched is not self:  # its slot is in another policy's queues
        raise PolicyError("this task runs on another scheduler: call set_priority on the "
                          "scheduler that spawned it")
    return self.policy.set_priority(slot, value)


_POLICY_NAMES = (  # (name, where) pairs: a constant tuple, in flash when frozen (not a dict)
    "fifo", "shimeji.policy.fifo:FifoPolicy",
    "rr", "shimeji.policy.rr:RoundRobinPolicy",
    "round-robin", "shimeji.policy.rr:RoundRobinPolicy",
    "cfs", "shimeji.policy.cfs:CfsPolicy",
    "priority", "shimeji.policy.priority:PriorityPolicy",
)


def _policy_of(policy):
    """The policy object for ``policy`` (a Policy or a name); ``PolicyError`` otherwise."""
    if isinstance(policy, str):
        where = None
        for i in range(0, len(_POLICY_NAMES), 2):
            if _POLICY_NAMES[i] == policy:
                where = _POLICY_NAMES[i + 1]
        if where is None:
            raise PolicyError("policy=%r: use one of 'fifo', 'rr', 'cfs', 'priority', or a "
                              "policy object such as FifoPolicy()" % policy)
        path, _, name = where.partition(":")
        return getattr(__import__(path, None, None, (name,), 0), name)()
    if isinstance(policy, type):
        name = getattr(policy, "__name__", "Policy")
        raise PolicyError("policy=%s is a class: pass an instance, policy=%s() (one per "
                          "scheduler)" % (name, name))
    for method in ("bind", "add", "pick", "put_back", "remove", "has_ready"):
        if not hasattr(policy, method):
            raise PolicyError("policy=%r is not a scheduling policy: pass FifoPolicy(), "
                              "RoundRobinPolicy(), CfsPolicy(), PriorityPolicy() or one of "
                              "the names 'fifo', 'rr', 'cfs', 'priority'" % (policy,))
    return policy
