# shimeji: cpython-only (runs every docs block in fresh CPython and MicroPython processes)
"""Docs are code: every ```python block of README.md and docs/*.md runs as written.

Each block runs in a fresh process on both runtimes, CPython (``PYTHONPATH=firmware:boards/unix``)
and the MicroPython unix port (``MICROPYPATH=.frozen:firmware:boards/unix``), with a timeout;
it passes when the process exits with status 0. Pages are found when the tests are collected,
so a new docs page is checked without being listed here.

- A block whose first line is ``# fragment`` followed by a reason (``# fragment: needs an
  I2C bus``) is not run; a bare ``# fragment`` fails (say why).
- A block of ``>>>`` lines is a REPL transcript. The transcripts of one page are one session
  (as doctest does with a file), run statement by statement in one process; each reply must
  match the page, where ``...`` inside a line matches anything and a reply starting with
  ``Traceback`` is compared by its last line. Lines of the unix board's text LED (``LED ●``)
  and what it draws on the terminal's top line behind the REPL (``bsp.STATUS``), which its
  thread writes at any time, are not part of a reply.
- Every fence names its language (```python, ```sh, ```text), so Python cannot hide in an
  untagged block.
"""

import os
import re
import subprocess
import sys
import tempfile

import mptest
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 90
RUNTIMES = ("cpython", "micropython")
FENCE = re.compile(r"^```(\S*)\s*$")
LED_LINE = re.compile(r"^LED [\u25cf\u25cb]$")
LED_STATUS = re.compile("\x1b7\x1b\\[1;1H[^\x1b]*\x1b8")
END = "--shimeji-docs-example-end--"


def pages():
    docs = os.path.join(ROOT, "docs")
    names = sorted(n for n in os.listdir(docs) if n.endswith(".md"))
    return ["README.md"] + ["docs/" + n for n in names]


def fences(page):
    """(language, first line number, lines) of every fenced block of ``page``."""
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        assert i < len(lines), "%s:%d: a code block is never closed" % (page, start)
        blocks.append((m.group(1), start, body))
        i += 1
    return blocks


def python_blocks(page):
    return [(line, body) for lang, line, body in fences(page) if lang == "python"]


def is_transcript(body):
    return any(x.startswith(">>>") for x in body)


def is_fragment(body):
    return bool(body) and body[0].startswith("# fragment")


def runnable_cases():
    cases = []
    for page in pages():
        for line, body in python_blocks(page):
            if not is_fragment(body) and not is_transcript(body):
                for rt in RUNTIMES:
                    cases.append(pytest.param(page, line, body, rt,
                                              id="%s:%d-%s" % (page, line, rt)))
    return cases


def transcript_cases():
    return [pytest.param(page, rt, id="%s-%s" % (page, rt)) for page in pages()
            for rt in RUNTIMES
            if any(is_transcript(b) for _, b in python_blocks(page))]


def _run(runtime, args, stdin=None):
    env = dict(os.environ)
    path = os.pathsep.join([os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix")])
    if runtime == "cpython":
        env["PYTHONPATH"] = path
        cmd = [sys.executable]
    else:
        env["MICROPYPATH"] = ".frozen" + os.pathsep + path
        cmd = [mptest.find_micropython(None)]
    try:
        proc = subprocess.run(cmd + args, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=TIMEOUT_S, input=stdin)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        pytest.fail("%s did not finish within %d s; its output ended:\n%s"
                    % (runtime, TIMEOUT_S, (out or "")[-2000:]))
    return proc


@pytest.mark.parametrize("page,line,body,runtime", runnable_cases())
def test_docs_block_runs(page, line, body, runtime):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")
    try:
        proc = _run(runtime, [f.name])
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        pytest.fail("%s:%d on %s exited with %d:\n%s%s" % (
            page, line, runtime, proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:]))


# The REPL of a transcript: reads examples separated by END lines on stdin, runs each as the
# REPL would (compile mode "single" prints the value of an expression), prints END after each.
DRIVER = """
import sys
END = %r
env = {"__name__": "__main__"}
for example in sys.stdin.read().split("\\n" + END + "\\n")[:-1]:
    try:
        exec(compile(example + "\\n", "<repl>", "single"), env)
    except BaseException as e:
        print("Traceback (most recent call last):")
        print("%%s: %%s" %% (type(e).__name__, e))
    print(END)
""" % END


def transcript_examples(body):
    """[(source, expected lines)] of a ``>>>`` block, as doctest reads them."""
    examples, i = [], 0
    while i < len(body):
        if not body[i].startswith(">>>"):
            i += 1
            continue
        src = [body[i][4:]]
        i += 1
        while i < len(body) and (body[i] == "..." or body[i].startswith("... ")):
            src.append(body[i][4:])
            i += 1
        want = []
        while i < len(body) and not body[i].startswith(">>>") and body[i].strip():
            want.append(body[i].rstrip())
            i += 1
        examples.append(("\n".join(src), want))
    return examples


def _matches(want, got):
    if want and want[0].startswith("Traceback"):
        return bool(got) and got[0].startswith("Traceback") and got[-1] == want[-1]
    if len(want) != len(got):
        return False
    for w, g in zip(want, got):
        pattern = ".*".join(re.escape(part) for part in w.split("..."))
        if not re.match(pattern + "$", g):
            return False
    return True


@pytest.mark.parametrize("page,runtime", transcript_cases())
def test_docs_transcript_replies(page, runtime):
    examples = []
    for _, body in python_blocks(page):
        if is_transcript(body) and not is_fragment(body):
            examples += transcript_examples(body)
    stdin = "".join("%s\n%s\n" % (src, END) for src, _ in examples)
    proc = _run(runtime, ["-c", DRIVER], stdin=stdin)
    replies = LED_STATUS.sub("", proc.stdout).split(END + "\n")
    assert proc.returncode == 0 and len(replies) == len(examples) + 1, proc.stdout + proc.stderr
    for (src, want), reply in zip(examples, replies):
        got = [x.rstrip() for x in reply.split("\n") if x.strip() and not LED_LINE.match(x)]
        assert _matches(want, got), "%s on %s: >>> %s\nwanted %r\ngot    %r" % (
            page, runtime, src, want, got)


def test_docs_fragments_say_why():
    bare = ["%s:%d" % (page, line) for page in pages() for line, body in python_blocks(page)
            if is_fragment(body) and len(body[0][len("# fragment"):].strip(" :-—()")) < 3]
    assert bare == [], "say why each of these is a fragment: '# fragment: needs ...'"


def test_docs_fences_name_their_language():
    untagged = ["%s:%d" % (page, line) for page in pages()
                for lang, line, _ in fences(page) if not lang]
    assert untagged == [], "tag these blocks ```python, ```sh or ```text"


def test_docs_micropypath_keeps_frozen_modules():
    # MICROPYPATH replaces the default path: without ".frozen" asyncio and aiorepl are gone.
    files = ["README.md", "Makefile"]
    for folder in ("docs", "examples"):
        files += [folder + "/" + n for n in os.listdir(os.path.join(ROOT, folder))
                  if not n.endswith(".png")]  # docs/trace-demo.png is a picture
    bad = []
    for name in files:
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                for m in re.finditer(r"MICROPYPATH=(\S+)", line):
                    if ".frozen" not in m.group(1):
                        bad.append("%s:%d: %s" % (name, n, m.group(0)))
    assert bad == [], bad


def test_transcript_reader_and_matcher():
    body = [">>> x = 1", ">>> async def f():", "...     return 1", "...", ">>> x",
            "1", ">>> bg", "<Bg steps=... tasks=1>", ">>> 1/0", "Traceback (most recent call "
            "last):", "  ...", "ZeroDivisionError: division by zero"]
    ex = transcript_examples(body)
    assert [s for s, _ in ex] == ["x = 1", "async def f():\n    return 1\n", "x", "bg", "1/0"]
    assert [w for _, w in ex][:4] == [[], [], ["1"], ["<Bg steps=... tasks=1>"]]
    assert _matches(ex[3][1], ["<Bg steps=1234 tasks=1>"])
    assert not _matches(ex[3][1], ["<Bg steps=1234 tasks=2>"])
    assert _matches(ex[4][1], ["Traceback (most recent call last):",
                               "ZeroDivisionError: division by zero"])
    assert not _matches(["1"], ["1", "2"])
    drawn = "[(2, 'bl" + "\x1b7\x1b[1;1HLED \u25cf\x1b8" + "ink')]"
    assert LED_STATUS.sub("", drawn) == "[(2, 'blink')]"


def test_docs_make_targets_exist():
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        targets = set(re.findall(r"^([a-z][\w-]*):", f.read(), re.M))
    missing = []
    for page in pages():
        with open(os.path.join(ROOT, page), encoding="utf-8") as f:
            text = f.read()
        code = re.findall(r"`([^`\n]+)`", text)
        code += [x for lang, _, body in fences(page) if lang == "sh" for x in body]
        for snippet in code:
            for target in re.findall(r"(?:^|[\s;&(])make ([a-z][\w-]*)", snippet):
                if target not in targets:
                    missing.append("%s: make %s" % (page, target))
    assert missing == [], "no such Makefile target: %s" % sorted(set(missing))


def test_the_issue_13_requirement_table_names_tests_that_exist():
    # docs/asyncio.md "Issue 13, requirement by requirement": each file it names exists and
    # each test function it names is in one of the files its row names.
    with open(os.path.join(ROOT, "docs", "asyncio.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Issue 13, requirement by requirement", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| ") and "`" in r]
    assert len(rows) >= 25
    missing = []
    for row in rows:
        sources = ""
        for name in re.findall(r"`((?:bench/|tools/)\w+\.py|test_\w+\.py)`", row):
            path = os.path.join(ROOT, name if "/" in name else os.path.join("host_tests", name))
            if not os.path.exists(path):
                missing.append(name)
                continue
            with open(path, encoding="utf-8") as f:
                sources += f.read()
        for fn in re.findall(r"`(test_\w+)`", row):
            if "def %s(" % fn not in sources:
                missing.append(fn)
    assert missing == []
