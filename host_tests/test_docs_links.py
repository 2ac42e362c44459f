# shimeji: cpython-only (reads the markdown pages of the checkout)
"""Every link of README.md and docs/*.md between the pages leads somewhere: the file exists and,
for ``page.md#anchor`` or ``#anchor``, a heading of that page makes that anchor (as GitHub makes
it: lower case, punctuation dropped, spaces to hyphens). Moving a section under a "History" or
"Tuning log" heading keeps its heading, so its links keep working; this says when one does not.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def pages():
    docs = os.path.join(ROOT, "docs")
    return ["README.md"] + ["docs/" + n for n in sorted(os.listdir(docs)) if n.endswith(".md")]


def slug(heading):
    """The anchor GitHub makes of a heading's text."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page):
    found, fenced = set(), False
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fenced = not fenced
            elif not fenced and re.match(r"#+ ", line):
                found.add(slug(re.sub(r"^#+ ", "", line.rstrip("\n"))))
    return found


def broken_links(page, made=None):
    """What is wrong with each link of ``page``; ``made`` keeps each page's anchors."""
    made = {} if made is None else made
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        text = f.read()
    bad = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        name, _, anchor = target.partition("#")
        path = os.path.normpath(os.path.join(os.path.dirname(page), name)) if name else page
        if not os.path.exists(os.path.join(ROOT, path)):
            bad.append("%s: %s (no such file)" % (page, target))
        elif anchor and path.endswith(".md"):
            if path not in made:
                made[path] = anchors(path)
            if anchor not in made[path]:
                bad.append("%s: %s (no heading makes #%s)" % (page, target, anchor))
    return bad


def test_every_link_between_the_docs_leads_somewhere():
    made = {}
    bad = [b for page in pages() for b in broken_links(page, made)]
    assert bad == [], "fix these links or the headings they name:\n" + "\n".join(bad)


def test_the_anchors_are_made_as_github_makes_them():
    assert slug("`make deploy`: compiled .mpy files in /lib") == (
        "make-deploy-compiled-mpy-files-in-lib")
    assert slug("Quiet-machine runs: twelve, 2026-12-07 23:18 UTC (session 24's closing "
                "figures)") == (
        "quiet-machine-runs-twelve-2026-12-07-2318-utc-session-24s-closing-figures")
    assert "tuning-log" in anchors("docs/io.md")


def test_a_broken_link_is_reported(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# T\n\n## Real one\n\n[a](#real-one) [b](#gone) "
                                        "[c](docs/x.md) [d](docs/y.md#nope)\n", encoding="utf-8")
    (tmp_path / "docs" / "y.md").write_text("# Y\n\n```text\n# not a heading\n```\n",
                                            encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    assert broken_links("README.md") == [
        "README.md: #gone (no heading makes #gone)",
        "README.md: docs/x.md (no such file)",
        "README.md: docs/y.md#nope (no heading makes #nope)"]
