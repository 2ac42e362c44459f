# Runs on the board for tools/fwtest.py: one host test module's test_* functions, a line each
# (PASS name / SKIP name: reason / FAIL name + traceback), then MODULE-DONE. Sent as source
# when the tests are mounted; frozen with the tests into the stm32 test image
# (boards/stm32/qemu/manifest_tests.py), where the host sends only the call to run().
import gc
import sys


def run(name, tests_dir=None, no_threads=None):
    # The tests' directory after '' and .frozen: shimeji is the frozen copy.
    if tests_dir is not None:
        sys.path.append(tests_dir)
    if no_threads is not None:
        import support

        support.HAS_THREADS = False
        support.NO_THREADS_REASON = "needs a second thread: " + no_threads
    mod = __import__(name)
    for test in sorted(n for n in dir(mod) if n.startswith("test_")):
        fn = getattr(mod, test)
        if not callable(fn):
            continue
        reason = getattr(fn, "skip_reason", None)
        if reason is not None:
            print("SKIP %s: %s" % (test, reason))
            continue
        gc.collect()
        try:
            fn()
        except BaseException as e:  # noqa: B036 - report every failure, then go on
            print("FAIL %s" % test)
            sys.print_exception(e)
            if isinstance(e, KeyboardInterrupt):
                raise
        else:
            print("PASS %s" % test)
    # The module's code back to the heap before the host's unmount, which needs some (where
    # shimeji's .mpy code fills the heap the unmount failed after every test had run).
    mod = fn = None
    sys.modules.pop(name, None)
    gc.collect()
    print("MODULE-DONE")
