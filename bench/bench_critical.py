"""critical: what the interrupt-masking critical section costs per wake.

``IrqCriticalSection.enter``/``exit`` are Python methods (native code where the port has it)
around ``machine.disable_irq``/``enable_irq``. Figures:

- ns per ``enter()`` + ``exit()`` pair, against calling ``disable_irq``/``enable_irq``
  directly (what inlining them into every primitive would cost);
- ns per wake round: ``WaitCell.wake()`` of a task that waits in a loop, then the ``tick()``
  that runs it, with the cell and the scheduler on the IRQ section. The scheduler takes its
  own sections (wake, inbox take, park) with direct ``disable_irq``/``enable_irq`` calls on an
  ``IrqCriticalSection`` (``irq_direct``, sched/waking.py); the same round with
  ``irq_direct`` turned off (every section through the methods) is the reference;
- how many section pairs one round takes, how many of them still go through the methods, and
  the share of the round those methods add over direct calls.

Where ``machine.disable_irq`` is missing (the unix port, the qemu firmware) a stand-in of two
C built-ins takes its place (``gc.isenabled``, ``bool``): the method overhead is the same."""

import gc

from benchlib import best, emit, ns_since, start

from shimeji import IrqCriticalSection, StaticScheduler, WaitCell

N = 2000
ROUNDS = 500
REPS = 5

try:
    import machine

    if not hasattr(machine, "disable_irq"):
        raise ImportError
    MACHINE = machine
    REAL = True
except ImportError:

    class MACHINE:
        disable_irq = gc.isenabled
        enable_irq = bool

    REAL = False


def pair_section(cs):
    enter = cs.enter
    leave = cs.exit
    t0 = start()
    for _ in range(N):
        s = enter()
        leave(s)
    return ns_since(t0) / N


def pair_direct():
    dis = MACHINE.disable_irq
    en = MACHINE.enable_irq
    t0 = start()
    for _ in range(N):
        s = dis()
        en(s)
    return ns_since(t0) / N


class CountingMachine:
    """A stand-in ``machine`` that counts ``disable_irq`` calls: every section pair."""

    def __init__(self):
        self.pairs = 0

    def disable_irq(self):
        self.pairs += 1
        return 0

    def enable_irq(self, state):
        pass


class CountingIrq(IrqCriticalSection):
    """Counts the pairs taken through ``enter`` (the method), not the direct ones."""

    def __init__(self, machine):
        IrqCriticalSection.__init__(self, machine)
        self.irq_direct = True  # (a subclass is not direct by itself: it is here)
        self.entered = 0

    def enter(self):
        self.entered += 1
        return IrqCriticalSection.enter(self)


def wake_rounds(cs, rounds=ROUNDS):
    s = StaticScheduler(2, critical_section=cs)
    cell = WaitCell(cs)

    async def waiter():
        while True:
            await cell.wait()

    s.spawn_detached(waiter())
    s.tick()  # parked in wait()
    wake = cell.wake
    tick = s.tick
    t0 = start()
    for _ in range(rounds):
        wake()
        tick()
    t = ns_since(t0) / rounds
    s.close()
    return t


def irq_section(direct):
    cs = IrqCriticalSection(MACHINE)
    cs.irq_direct = direct
    return cs


def main():
    irq = IrqCriticalSection(MACHINE)
    sec = best(lambda: pair_section(irq), REPS)
    direct = best(pair_direct, REPS)
    machine = CountingMachine()
    counting = CountingIrq(machine)
    wake_rounds(counting, 10)
    pairs = machine.pairs / 10
    through_methods = counting.entered / 10
    per_round = best(lambda: wake_rounds(irq_section(True)), REPS)
    per_round_methods = best(lambda: wake_rounds(irq_section(False)), REPS)
    how = "machine.disable_irq" if REAL else "stand-in: gc.isenabled/bool"
    emit("critical", "ns per enter+exit, IrqCriticalSection (vs direct calls)", "ns",
         round(sec), round(direct), "direct", how)
    emit("critical", "ns per wake round, IRQ section (vs every section via methods)", "ns",
         round(per_round), round(per_round_methods), "methods", how)
    emit("critical", "section pairs per wake round: all / through the methods", "",
         "%s / %s" % (pairs, through_methods), None, "")
    emit("critical", "% of a wake round the section methods add over direct calls", "%",
         round(100 * through_methods * (sec - direct) / per_round, 1), None, "")
    emit("critical", "% of a wake round saved by the scheduler's direct sections", "%",
         round(100 * (per_round_methods - per_round) / per_round_methods, 1), None, "")


main()
