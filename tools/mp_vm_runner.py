# Runs inside the MicroPython VM: imports one test module and runs its test_* functions.
# Prints one line per test: "PASS name", "SKIP name: reason" or "FAIL name" + traceback.
# Driven by tools/mptest.py; kept free of anything MicroPython lacks.
import sys


def main(module_name, only=None):
    mod = __import__(module_name)
    names = sorted(n for n in dir(mod) if n.startswith("test_"))
    for name in names:
        if only and name != only:
            continue
        fn = getattr(mod, name)
        if not callable(fn):
            continue
        reason = getattr(fn, "skip_reason", None)
        if reason is not None:
            print("SKIP %s: %s" % (name, reason))
            continue
        try:
            fn()
        except BaseException as e:  # noqa: B036 - report every failure, then go on
            print("FAIL %s" % name)
            sys.print_exception(e)
            if isinstance(e, KeyboardInterrupt):
                raise
        else:
            print("PASS %s" % name)


main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
