"""Run MicroPython's own asyncio test suite with ``import asyncio`` resolved to shimeji.asyncio.

Usage: python tools/asyncio_suite.py [--micropy-dir DIR] [--micropython PATH] [--markdown]

DIR (or the ``MICROPY_DIR`` environment variable) is a MicroPython source tree (tag v1.28.0
for the pinned unix port); nothing of it is copied into this repository. The 33
``tests/extmod/asyncio_*.py`` and the 2 ``tests/net_hosted/asyncio_*.py`` run through its
``tests/run-tests.py`` (which compares with the ``.exp`` file, or with CPython's output where
there is none), the 10 ``tests/multi_net/asyncio_*.py`` through ``tests/run-multitests.py``
with two unix instances over 127.0.0.1. ``asyncio`` is a shim package, made in a temporary
directory placed before ``.frozen`` on ``MICROPYPATH``, whose ``__init__`` re-exports
``shimeji.asyncio``. Prints one line per test and ``N of 45 pass``; exit status 1 if any
failed. Without a tree it prints why it is skipped and exits 0.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
SHIM = """from shimeji.asyncio import *  # noqa
import shimeji.asyncio as _facade


def __getattr__(name):
    return getattr(_facade, name)
"""
TIMEOUT_S = 900
# Tests whose expected output depends on wall-clock timing that a loaded machine breaks, for
# MicroPython's own asyncio and CPython alike (run-tests.py compares with CPython's output made
# in the same run): a failure is tried again, up to TIMING_TRIES in all, and reported as a pass
# only if a try passes, with the failed tries named (docs/testing.md, "asyncio_fair.py").
TIMING_DEPENDENT = {
    "extmod/asyncio_fair.py": "t2's fifth print lands 50 ms before main's 0.45 s sleep ends, "
                              "after four 0.1 s sleeps whose lateness adds up",
}
TIMING_TRIES = 3


def make_shim():
    top = tempfile.mkdtemp(prefix="shimeji-asyncio-shim-")
    os.mkdir(os.path.join(top, "asyncio"))
    with open(os.path.join(top, "asyncio", "__init__.py"), "w") as f:
        f.write(SHIM)
    return top


def micropypath(shim):
    return os.pathsep.join([shim, FIRMWARE, ".frozen"])


def run_single(tests_dir, micropython, shim, files):
    """run-tests.py over ``files``; returns {relative name: (result, detail)}."""
    env = dict(os.environ)
    env["MICROPY_MICROPYTHON"] = micropython
    env["MICROPYPATH"] = micropypath(shim)
    env.setdefault("MICROPY_CPYTHON3", sys.executable)
    results_dir = tempfile.mkdtemp(prefix="shimeji-asyncio-results-")
    cmd = [sys.executable, "run-tests.py", "--keep-path", "-r", results_dir] + files
    p = subprocess.run(cmd, cwd=tests_dir, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
    out = p.stdout.decode("utf-8", "replace")
    found = {}
    for line in out.splitlines():
        m = re.match(r"^(pass|FAIL|skip|lrge)\s+(\S+)", line)
        if m:
            found[m.group(2)] = (m.group(1).lower(), "")
    for name, (res, _) in found.items():
        if res == "fail":
            base = name.replace("/", "_")
            found[name] = (res, _first_diff(results_dir, base))
    return found, out


def retry_timing(results, tests_dir, micropython, shim, run=None):
    """Try a failed ``TIMING_DEPENDENT`` test again, up to ``TIMING_TRIES`` in all; a pass then
    says how many tries failed first and what differed."""
    run = run or run_single
    for name in sorted(TIMING_DEPENDENT):
        res, why = results.get(name, ("skip", ""))
        failed = []
        tries = 1
        while res == "fail" and tries < TIMING_TRIES:
            failed.append(why)
            tries += 1
            res, why = run(tests_dir, micropython, shim, [name])[0].get(
                name, ("fail", "no result from run-tests.py"))
        if failed:
            note = "timing-dependent: %s; %d of %d tries failed (%s)" % (
                TIMING_DEPENDENT[name], len(failed) + (res == "fail"), tries,
                "; ".join(failed + ([why] if res == "fail" else [])))
            results[name] = (res, note)


def _first_diff(results_dir, base):
    exp = os.path.join(results_dir, base + ".exp")
    out = os.path.join(results_dir, base + ".out")
    try:
        with open(exp, "rb") as f:
            a = f.read().decode("utf-8", "replace").splitlines()
        with open(out, "rb") as f:
            b = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "<end>"
        y = b[i] if i < len(b) else "<end>"
        if x != y:
            return "line %d: expected %r, got %r" % (i + 1, x[:60], y[:60])
    return ""


def run_multi(tests_dir, micropython, shim, files):
    """run-multitests.py over ``files`` with two unix instances; {name: (result, detail)}."""
    env = dict(os.environ)
    env["MICROPY_MICROPYTHON"] = micropython
    env.setdefault("MICROPY_CPYTHON3", sys.executable)
    inst = "exec:%s,MICROPYPATH=%s" % (micropython, micropypath(shim))
    results_dir = tempfile.mkdtemp(prefix="shimeji-asyncio-multi-")
    cmd = [sys.executable, "run-multitests.py", "-r", results_dir, "-t", inst, "-t", inst]
    found = {}
    outs = []
    for f in files:  # one at a time: a hung test must not hide the others
        try:
            p = subprocess.run(cmd + [f], cwd=tests_dir, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=TIMEOUT_S // 4)
            out = p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            found[f] = ("fail", "timed out")
            continue
        outs.append(out)
        m = re.search(r"^%s on .*?: (pass|FAIL|skip)" % re.escape(f), out, re.M)
        if m is None:
            found[f] = ("fail", "no result line")
        elif m.group(1) == "FAIL":
            found[f] = ("fail", _multi_diff(out))
        else:
            found[f] = (m.group(1).lower(), "")
    return found, "\n".join(outs)


def _multi_diff(out):
    for line in out.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            return "got %r" % line[1:80]
    return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR", ""))
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the runners' output")
    args = ap.parse_args(argv)
    args.micropython = os.path.abspath(args.micropython)  # the runners work in the tree
    tests_dir = os.path.join(args.micropy_dir, "tests") if args.micropy_dir else ""
    if not tests_dir or not os.path.exists(os.path.join(tests_dir, "run-tests.py")):
        print("asyncio suite: skipped (MICROPY_DIR is not set to a MicroPython source tree "
              "with tests/run-tests.py; e.g. make test-asyncio-suite MICROPY_DIR=/path/to/mp)")
        return 0
    shim = make_shim()
    rel = lambda pattern: sorted(  # noqa: E731
        os.path.relpath(p, tests_dir) for p in glob.glob(os.path.join(tests_dir, pattern)))
    single = rel("extmod/asyncio_*.py") + rel("net_hosted/asyncio_*.py")
    multi = rel("multi_net/asyncio_*.py")
    results, out1 = run_single(tests_dir, args.micropython, shim, single)
    for name in single:
        results.setdefault(name, ("fail", "no result from run-tests.py"))
    retry_timing(results, tests_dir, args.micropython, shim)
    mres, out2 = run_multi(tests_dir, args.micropython, shim, multi)
    results.update(mres)
    if args.verbose:
        print(out1)
        print(out2)
    names = single + multi
    passed = sum(1 for n in names if results[n][0] == "pass")
    if args.markdown:
        print("| test | result | why it fails |")
        print("|---|---|---|")
    for n in names:
        res, why = results[n]
        if args.markdown:
            print("| `%s` | %s | %s |" % (n, res, why.replace("|", "\\|")))
        else:
            print("%-4s %s%s" % (res, n, ("  (" + why + ")") if why else ""))
    print("asyncio suite: %d of %d pass" % (passed, len(names)))
    return 0 if passed == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
