# shimeji: cpython-only (reads the repository's package and manifest files)
# mip's package.json lists every firmware module; every board has a manifest and a package.
import json
import os

import package_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = ["esp32", "qemu", "rp2040", "stm32", "unix"]


def _load(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return json.load(f)


def test_package_json_lists_every_firmware_module_and_nothing_else():
    pkg = _load("package.json")
    modules = []
    top = os.path.join(ROOT, "firmware", "shimeji")
    for dirpath, _dirs, files in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        modules += [f if rel == "." else rel + "/" + f for f in files if f.endswith(".py")]
    modules.sort()
    assert "sync/mutex.py" in modules and "__init__.py" in modules
    assert sorted(t for t, _ in pkg["urls"]) == ["shimeji/" + m for m in modules]
    for target, source in pkg["urls"]:
        assert source == "firmware/" + target
        assert os.path.exists(os.path.join(ROOT, source)), source


def test_package_json_version_is_the_package_version():
    assert _load("package.json")["version"] == package_json.version()
    assert package_json.version() == "0.2.0"
    with open(os.path.join(ROOT, "pyproject.toml")) as f:  # one version everywhere
        assert 'version = "%s"' % package_json.version() in f.read()


def test_package_files_are_up_to_date():
    assert package_json.main(["--check"]) == 0


def test_every_board_has_a_module_a_manifest_and_a_package():
    assert package_json.boards() == BOARDS
    for b in BOARDS:
        pkg = _load("boards/%s/package.json" % b)
        assert pkg["urls"] == [["shimeji_board.py", "shimeji_board.py"]]
        assert os.path.exists(os.path.join(ROOT, "boards", b, "manifest.py"))


class _Options:
    def __init__(self, kw):
        self.kw = kw
        self.default = {}

    def defaults(self, **kw):
        self.default = kw

    def __getattr__(self, name):
        return self.kw.get(name, self.default.get(name))


def _evaluate_manifest(path, calls, options=None):
    """Run a manifest with recording stand-ins for micropython's manifest functions, in the
    manifest's directory (as MicroPython's tools/manifestfile.py does)."""
    here = os.path.dirname(path)

    def include(p, **kw):
        calls.append(("include", p) + ((kw,) if kw else ()))
        if not p.startswith("$("):
            _evaluate_manifest(os.path.normpath(os.path.join(here, p)), calls, kw)

    def module(p, base_path=".", **kw):
        calls.append(("module", p))
        assert os.path.exists(os.path.join(here, base_path, p)), p

    def package(p, files=None, base_path=".", **kw):
        calls.append(("package", p) + ((base_path,) if base_path != "firmware" else ()))
        assert base_path.startswith("$(") or os.path.isdir(os.path.join(here, base_path, p)), p

    def metadata(**kw):
        calls.append(("metadata", kw["version"]))

    with open(path) as f:
        code = f.read()
    cwd = os.getcwd()
    os.chdir(here)
    try:
        exec(code, {"include": include, "module": module, "package": package,
                    "metadata": metadata, "options": _Options(options or {})})
    finally:
        os.chdir(cwd)


def test_top_manifest_freezes_the_package():
    calls = []
    _evaluate_manifest(os.path.join(ROOT, "manifest.py"), calls)
    assert calls == [("metadata", "0.2.0"), ("package", "shimeji")]


def test_board_manifests_include_shimeji_and_their_board_module():
    port_manifest = {
        "rp2040": [("include", "$(PORT_DIR)/boards/manifest.py")],
        "esp32": [("include", "$(PORT_DIR)/boards/manifest.py")],
        "stm32": [("include", "$(PORT_DIR)/boards/manifest.py")],
        "unix": [("include", "$(PORT_DIR)/variants/standard/manifest.py")],
        "qemu": [("package", "asyncio", "$(MPY_DIR)/extmod")],  # the port freezes nothing
    }
    for b in BOARDS:
        calls = []
        _evaluate_manifest(os.path.join(ROOT, "boards", b, "manifest.py"), calls)
        if b in ("rp2040", "esp32"):  # ARMv6-M, RV32IMC (the C3): native code word-aligned
            align = True if b == "rp2040" else "rv32imc"  # (tools/native_align.py)
            top = [("include", "../../manifest.py", {"word_align_native": align}),
                   ("metadata", "0.2.0"), ("package", "shimeji")]
        else:
            top = [("include", "../../manifest.py"), ("metadata", "0.2.0"),
                   ("package", "shimeji")]
        assert calls == port_manifest[b] + top + [("module", "shimeji_board.py")], b


def test_frozen_module_names_do_not_collide():
    # Freezing names each module's C data after its path with "/" -> "_": a top-level
    # shimeji_board.py and a shimeji/board.py would both become shimeji_board.
    names = ["shimeji_" + t.split("/", 1)[1][:-3] for t, _ in _load("package.json")["urls"]]
    names.append("shimeji_board")
    assert len(set(names)) == len(names), sorted(names)
