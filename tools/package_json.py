"""Write the mip package files: package.json (the shimeji package) and one per board.

Usage: python tools/package_json.py [--check]

``mpremote mip install package.json`` (from a checkout; ``github:<owner>/shimeji`` once the
repository is published, or ``mip.install`` on a board with network) reads package.json:
every module of firmware/shimeji, installed as ``lib/shimeji/...``.
``boards/<board>/package.json`` installs that board's ``shimeji_board``.
``--check`` exits 1 if a file is out of date instead of writing it.
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "firmware", "shimeji")


def version():
    with open(os.path.join(PACKAGE, "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def firmware_modules():
    """Every module of the package, as paths relative to it (``sync/mutex.py``)."""
    found = []
    for dirpath, _dirs, files in os.walk(PACKAGE):
        rel = os.path.relpath(dirpath, PACKAGE)
        for f in files:
            if f.endswith(".py"):
                found.append(f if rel == "." else rel.replace(os.sep, "/") + "/" + f)
    return sorted(found)


def boards():
    d = os.path.join(ROOT, "boards")
    return sorted(b for b in os.listdir(d)
                  if os.path.exists(os.path.join(d, b, "shimeji_board.py")))


def dump(pkg):
    """package.json text: one ``[target, source]`` pair per line, so diffs stay small."""
    urls = ",\n".join("    " + json.dumps(u) for u in pkg["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "version": %s,\n  "deps": %s\n}\n' % (
        urls, json.dumps(pkg["version"]), json.dumps(pkg["deps"]))


def expected():
    """{path relative to ROOT: JSON text} of every package file."""
    files = {}
    main = {
        "urls": [["shimeji/" + f, "firmware/shimeji/" + f] for f in firmware_modules()],
        "version": version(),
        "deps": [],
    }
    files["package.json"] = dump(main)
    for b in boards():
        pkg = {"urls": [["shimeji_board.py", "shimeji_board.py"]], "version": version(),
               "deps": []}
        files["boards/%s/package.json" % b] = dump(pkg)
    return files


def main(argv=None):
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for rel, text in expected().items():
        path = os.path.join(ROOT, rel)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(rel)
            if not check:
                with open(path, "w") as f:
                    f.write(text)
    if check and stale:
        print("out of date: %s (run: python tools/package_json.py)" % ", ".join(stale))
        return 1
    print("%s %d package files" % ("checked" if check else "wrote", len(expected())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
