"""tools/instr.py's prototype workloads: the design studies in bench/proto_*.py (flat
sleep, wheel words, duties, the viper poll and spawn), each run by its module's ``run``."""

import os

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")

WORKLOADS = {
    # The tickless workload ("tickless", instr_timers.py) on bench/proto_flat_sleep.py: a
    # design study with the timer entry's and the task slot's hot fields in one flat array
    # and the sleep path in viper (docs/benchmarks.md, "Timers, round seven").
    "flat sleep prototype": """
sys.path.insert(0, %r)
import proto_flat_sleep
proto_flat_sleep.run(N)
""" % BENCH,
    # The flat prototype's wheel in words with the task slot left an object (its state,
    # sleeping flag and FIFO link as fields, the tick native code over them): the redesign's
    # step "the wheel in words" alone (docs/benchmarks.md, "Timers, round eight").
    "wheel words prototype": """
sys.path.insert(0, %r)
import proto_wheel_words
proto_wheel_words.run(N)
""" % BENCH,
    # The flat prototype with the duties the runtime's path keeps (per poll, per handed-off
    # entry, per tick and per loop iteration), as words where the flat design keeps them:
    # the redesign's target (docs/benchmarks.md, "Timers, round eight").
    "flat duties prototype": """
sys.path.insert(0, %r)
import proto_flat_duties
proto_flat_duties.run(N)
""" % BENCH,
    # The wheel-words prototype with the runtime's duties as the object model has them (the
    # entry's pos kept on the object, the hand-off's and the tick's checks of slot fields):
    # the redesign without the slot's words (docs/benchmarks.md, "Timers, round eight").
    "wheel duties prototype": """
sys.path.insert(0, %r)
import proto_wheel_duties
proto_wheel_duties.run(N)
""" % BENCH,
    # The FIFO tick's poll loop in viper over slot words (the state, the throw flag and the
    # ring's link by slot number; a completion's exception bound to a module global) against
    # the same loop in native code over attributes: per poll of a yielding task, and per
    # task that ends at its poll (docs/benchmarks.md, "Timers, round fourteen").
    "poll prototype native": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("yield", "native", N)
""" % BENCH,
    "poll prototype viper": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("yield", "viper", N)
""" % BENCH,
    "poll prototype native end": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("end", "native", N)
""" % BENCH,
    "poll prototype viper end": """
sys.path.insert(0, %r)
import proto_viper_poll
proto_viper_poll.run("end", "viper", N)
""" % BENCH,
    # bench/proto_viper_spawn.py (round fifteen's study): a task's spawn, its poll to its end
    # and the take of its handle, native over attributes or viper over words, per mode.
    "spawn prototype native": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("native", N)
""" % BENCH,
    "spawn prototype viper": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("viper", N)
""" % BENCH,
    "spawn prototype viper2": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("viper2", N)
""" % BENCH,
    "spawn prototype vipergen": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("vipergen", N)
""" % BENCH,
    "spawn prototype wnative": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("wnative", N)
""" % BENCH,
    "spawn prototype wviper": """
sys.path.insert(0, %r)
import proto_viper_spawn
proto_viper_spawn.run("wviper", N)
""" % BENCH,
}
