# Two schedulers as an executor's two cores, each with its own Trace on one shared clock: a
# task on core 0 records a cross-core wake of a task on core 1 (record_isr, from its poll),
# core 1's run loop records a steal from core 0 (record, between ticks), and the dumps say
# which core they are (``core=``): the exact records and lines tools/trace.py turns into one
# process per core with flow arrows (host_tests/test_trace_export.py converts them).
from shimeji import FakeClock, StaticScheduler, Trace, yield_now
from shimeji.trace import kinds as K

START = 0x3FFFFF80  # the shared ticks wrap during the run


class Lines:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


def two_cores():
    """Run the scenario; returns (dump of core 0, dump of core 1, the two traces)."""
    clk = FakeClock(START)
    core0 = StaticScheduler(4, clock_us=clk)
    core1 = StaticScheduler(4, clock_us=clk)
    t0 = Trace(32).attach(core0)
    t1 = Trace(32).attach(core1)
    ids = {}

    async def producer():
        clk.advance_us(100)
        t1.record_isr(K.CROSS_CORE_WAKE, ids["consumer"], 0)  # from core 0's poll
        clk.advance_us(20)
        await yield_now()
        clk.advance_us(50)

    async def consumer():
        clk.advance_us(30)
        await yield_now()
        clk.advance_us(30)

    async def stolen():
        clk.advance_us(40)

    ids["producer"] = core0.spawn(producer(), "producer").id
    ids["consumer"] = core1.spawn(consumer(), "consumer").id
    clk.advance_us(10)
    core0.tick(1)  # the producer's first poll: 10..130, the wake at 110
    clk.advance_us(10)
    core1.tick(1)  # the consumer's first poll: 140..170
    clk.advance_us(10)
    ids["stolen"] = core1.spawn(stolen(), "stolen").id
    t1.record(K.STEAL, ids["stolen"], 0)  # the run loop of core 1 took it from core 0
    clk.advance_us(10)
    core1.tick()  # consumer 190..220 (done), stolen 220..260 (done)
    core0.tick()  # producer 260..310 (done)
    out0, out1 = Lines(), Lines()
    t0.dump(out0, "worker", core=0)
    t1.dump(out1, "worker", core=1)
    return out0.text, out1.text, t0, t1, ids


def rel(trace):
    return [((ts - START) & 0x3FFFFFFF, kind, task, arg) for ts, kind, task, arg in
            trace.records()]


def test_each_core_records_its_polls_the_wake_from_the_other_core_and_the_steal():
    _, _, t0, t1, ids = two_cores()
    p, c, s = ids["producer"], ids["consumer"], ids["stolen"]
    assert rel(t0) == [
        (0, K.SPAWN, p, 0),
        (10, K.POLL_BEGIN, p, 0), (130, K.POLL_END, p, K.END_YIELD),
        (260, K.POLL_BEGIN, p, 0), (310, K.POLL_END, p, K.END_DONE), (310, K.COMPLETE, p, 0),
    ]
    assert rel(t1) == [
        (0, K.SPAWN, c, 0),
        (110, K.CROSS_CORE_WAKE, c, 0),  # moved from the side ring when core 1 ticked
        (140, K.POLL_BEGIN, c, 0), (170, K.POLL_END, c, K.END_YIELD),
        (180, K.SPAWN, s, 0), (180, K.STEAL, s, 0),
        (190, K.POLL_BEGIN, c, 0), (220, K.POLL_END, c, K.END_DONE), (220, K.COMPLETE, c, 0),
        (220, K.POLL_BEGIN, s, 0), (260, K.POLL_END, s, K.END_DONE), (260, K.COMPLETE, s, 0),
    ]
    assert t0.dropped == 0 and t1.dropped == 0


def test_dumps_name_their_core():
    d0, d1, t0, t1, ids = two_cores()
    assert d0.splitlines()[0] == "shimeji-trace 1 size=32 count=6 dropped=0 label=worker core=0"
    lines = d1.splitlines()
    assert lines[0] == "shimeji-trace 1 size=32 count=12 dropped=0 label=worker core=1"
    assert lines[1:3] == ["N %x consumer" % ids["consumer"], "N %x stolen" % ids["stolen"]]
    assert lines[3] == "%x %x %x 0" % (START, K.SPAWN, ids["consumer"])
    assert lines[4] == "%x %x %x 0" % ((START + 110) & 0x3FFFFFFF, K.CROSS_CORE_WAKE,
                                       ids["consumer"])
    assert lines[-1] == "end" and len(lines) == 3 + 12 + 1
