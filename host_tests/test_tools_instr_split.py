# shimeji: cpython-only (tools/instr_split.py is a host tool: valgrind, subprocess, argparse)
# tools/instr_split.py splits an I/O wake cycle's instructions at its system calls; with
# --cold the caches are flushed in each ipoll, and --all-pages flushes more than its page
# model holds, so the misses of a segment are its distinct pages.
import instr_split


def test_the_flush_is_larger_than_the_model_it_empties():
    code = "import asyncio\n"
    small = instr_split.cold_prelude(code)
    assert "_big[0:524288] = _big[524288:]" in small and "1 << 20" in small
    big = instr_split.cold_prelude(code, instr_split.BIG_FLUSH)
    assert "_big[0:8388608] = _big[8388608:]" in big and "bytearray(16777216)" in big
    assert "1 << 20" not in big
    # 1,024 pages of 4 KB in the model, 8 MB copied: twice what it holds, from the buffer's
    # other half each time
    size, ways, line = (int(x) for x in instr_split.ALL_PAGES[2].split("=")[1].split(","))
    assert size == ways * line == 4 << 20 and instr_split.BIG_FLUSH == 2 * size


def test_each_runtime_gets_its_own_poller_wrapped():
    assert "IOPoller" in instr_split.cold_prelude("from shimeji import RunLoop\n")
    assert "_io_queue" in instr_split.cold_prelude("import asyncio\n")
