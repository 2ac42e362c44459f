"""``make example NAME=blink [RUNTIME=micropython|cpython] [ARGS=...]``: run one example here.

Usage: python tools/run_example.py NAME [--runtime micropython|cpython] [ARGS...]

Runs ``examples/NAME.py`` on the unix board (``boards/unix``), in the MicroPython unix port of
``.venv`` (the default) or in CPython, with the import path each needs:

- MicroPython: ``MICROPYPATH=.frozen:firmware:boards/unix`` (``.frozen`` first keeps
  MicroPython's own frozen modules, such as ``asyncio`` and ``aiorepl``, importable), started
  through ``tools/mp_launch.py`` so that a Ctrl-C stops the run loop at a safe point instead
  of being raised wherever the VM is (docs/repl.md, "Ctrl-C");
- CPython: ``PYTHONPATH=firmware:boards/unix``.

The process is replaced by the example's, so Ctrl-C and the exit status are the example's.
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
LAUNCH = os.path.join(ROOT, "tools", "mp_launch.py")
RUNTIMES = ("micropython", "cpython")


def names():
    """The examples, by the NAME ``make example`` takes."""
    return sorted(n[:-3] for n in os.listdir(EXAMPLES) if n.endswith(".py"))


def command(name, runtime, args=()):
    """(argv, env) that run example ``name`` on ``runtime``; ValueError says what to pass."""
    if name.endswith(".py"):
        name = os.path.basename(name)[:-3]
    if name not in names():
        raise ValueError("no example %r: NAME is one of %s" % (name, ", ".join(names())))
    if runtime not in RUNTIMES:
        raise ValueError("RUNTIME=%s: use micropython (the default) or cpython" % runtime)
    env = dict(os.environ)
    path = [os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix")]
    if runtime == "cpython":
        exe = sys.executable
        env["PYTHONPATH"] = os.pathsep.join(path)
    else:
        exe = os.path.join(os.path.dirname(sys.executable), "micropython")
        if not os.path.exists(exe):
            raise ValueError("%s is missing: `make venv` installs the MicroPython unix port"
                             % exe)
        env["MICROPYPATH"] = os.pathsep.join([".frozen"] + path)
        # the same port through tools/mp_launch.py: Ctrl-C at the run loop's safe point
        return [sys.executable, LAUNCH, os.path.join(EXAMPLES, name + ".py")] + list(args), env
    return [exe, os.path.join(EXAMPLES, name + ".py")] + list(args), env


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", nargs="?", default="")
    ap.add_argument("--runtime", default="micropython")
    opts, rest = ap.parse_known_args(sys.argv[1:] if argv is None else argv)
    opts.args = rest
    if not opts.name:
        print("make example NAME=... [RUNTIME=micropython|cpython]; NAME is one of: %s"
              % ", ".join(names()))
        return 2
    try:
        cmd, env = command(opts.name, opts.runtime, opts.args)
    except ValueError as e:
        print("make example: %s" % e)
        return 2
    sys.stdout.flush()
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    sys.exit(main())
