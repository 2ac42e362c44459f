"""Every name a package lists lazily resolves to something, in every package (a table entry
pointing at a module or name that does not exist would fail only when first used)."""

import shimeji
from shimeji import _lazy

PACKAGES = ("asyncio", "executor", "io", "platform", "policy", "sched", "sync", "task", "time",
            "trace")


def test_every_lazy_name_of_every_package_resolves():
    for name in PACKAGES:
        __import__("shimeji." + name)
    assert "shimeji" in _lazy.TABLES and "shimeji.sync" in _lazy.TABLES
    checked = 0
    for package, table in sorted(_lazy.TABLES.items()):
        mod = __import__(package, None, None, ("*",), 0)
        for attr in sorted(table):
            assert getattr(mod, attr) is not None, (package, attr)
            checked += 1
    assert checked > 100


def test_a_name_no_package_lists_raises_attribute_error():
    try:
        value = shimeji.no_such_name  # noqa: F841
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("expected AttributeError")
