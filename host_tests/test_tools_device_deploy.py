# shimeji: cpython-only (tools/device.py is a host tool)
"""``make deploy`` builds the .mpy files in a directory of its own and removes it after, so a
deploy beside a ``make test`` (whose virtual-board tests deploy too) never copies from a tree
the other one is rebuilding: both used build/deploy/x64, and a test failed with "can't open
.../shimeji/sync/semaphore.mpy" while a user's ``make deploy`` ran."""

import os

import device


def test_each_deploy_builds_in_its_own_directory_and_removes_it(monkeypatch):
    built, calls = [], []

    def fake_build(info, out_dir, board):
        built.append(out_dir)
        os.makedirs(os.path.join(out_dir, "shimeji"))
        for name in ("shimeji/__init__.mpy", "shimeji_board.mpy"):
            with open(os.path.join(out_dir, name), "w") as f:
                f.write("x")
        return out_dir

    def fake_mpremote(port, *args, **kw):
        calls.append(args)
        if args[:1] == ("fs",):  # the copy: the files are still there while it runs
            assert os.path.exists(os.path.join(built[-1], "shimeji", "__init__.mpy"))
        return "shimeji 0.2.0 on unix\n"

    info = {"platform": "linux", "version": "1.29.0", "mpy": 6, "board": "unix", "arch": "x64"}
    monkeypatch.setattr(device, "board_info", lambda port: dict(info))
    monkeypatch.setattr(device, "check_mpy", lambda info, local: None)
    monkeypatch.setattr(device, "build", fake_build)
    monkeypatch.setattr(device, "mpremote", fake_mpremote)
    for _ in range(2):
        device.deploy("/dev/pts/99", out=lambda line: None)
    assert len(built) == 2 and built[0] != built[1]
    assert all(os.path.basename(d).startswith("x64-") for d in built)
    assert not any(os.path.exists(d) for d in built)  # removed once copied
    assert any(a[:1] == ("fs",) for a in calls)


def test_make_run_with_a_board_named_but_none_attached_says_so(monkeypatch, capsys):
    # `make run BOARD=rp2040` with no board on USB ran the demo on the unix port, silently.
    import run_demo

    monkeypatch.setattr(run_demo, "pick_port", lambda port: None)
    assert run_demo.main(["--board", "rp2040"]) == 2
    out = capsys.readouterr().out
    assert "BOARD=rp2040, but no board was found on USB" in out and "BOARD=unix" in out
