"""The benchmarks on firmware: shimeji against the asyncio frozen into the same firmware.

Usage: python tools/fwbench.py BOARD [--only switch,spawn] [--port PORT] [--json FILE]

BOARD ``qemu`` boots the qemu firmware with ``-icount shift=0`` (one instruction per
emulated nanosecond: repeatable figures, counted in guest instructions), ``stm32`` the
B_L475E_IOT01A build for qemu in qemu's ``b-l475e-iot01a`` machine the same way (STM32_QEMU:
qemu 9.0 or later), ``esp32`` the ESP32-C3 firmware in Espressif's qemu fork the same way
(ESP32_QEMU), and with ``CHIP=esp32`` the classic ESP32 in the same fork's qemu-system-xtensa
*without* ``-icount`` (there the firmware stops after its bootloader with it, shift 0 to 3 or
auto: docs/boards.md, "ESP32 (Xtensa)"), so its emulated time follows the host's clock and
each figure moves with the host's load: take ranges over runs; ``rp2040`` boots the
RP2040 firmware in rp2040js (emulated time at 125 MHz). Each workload of ``bench/`` runs after
a soft reset with ``bench/`` mounted; its ``BENCH`` lines are printed as a table, ratio =
asyncio / shimeji (above 1: shimeji is better), with the issue's goal for 32-bit spawn.
Without firmware or emulator it says why and exits 0.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import device  # noqa: E402
import emulate  # noqa: E402

ROOT = emulate.ROOT
BENCH = os.path.join(ROOT, "bench")
# Every workload of bench/ that can run on a board without networking or a second thread
# (io, asyncio_echo and executor need sockets or threads, and executor runs on the boards of
# THREADED_WORKLOADS; preempt and irq a second thread,
# which rp2040js cannot run; import measures loading from files, not from flash). Each
# scales its size to the board's heap (benchlib.fit) and says so in its rows' notes.
WORKLOADS = ("switch", "spawn", "spawn_batches", "memory", "timers", "timer_scale", "policies",
             "trace", "idle", "critical", "asyncio_facade")
# Boards whose firmware runs threads: their bench runs the executor's workload too.
THREADED_WORKLOADS = {"esp32": ("executor",)}
TIMEOUT_S = 1800
SPAWN_GOAL = 2.0  # shimeji's spawn at least 2x asyncio's on a 32-bit board (issue 18)


def run_workload(port, name, timeout=TIMEOUT_S):
    cmd = [device.mpremote_exe(), "connect", port, "mount", BENCH, "exec",
           "import bench_%s" % name]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        return [{"workload": name, "metric": "FAILED: timed out after %d s" % timeout}]
    rows = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("BENCH ")]
    if not rows:
        tail = out.strip().splitlines()[-1:] or ["no output"]
        rows = [{"workload": name, "metric": "FAILED: %s" % tail[0]}]
    return rows


def ratio(row):
    sh, ref = row.get("shimeji"), row.get("ref")
    if isinstance(sh, (int, float)) and isinstance(ref, (int, float)) and sh > 0:
        return ref / sh
    return None


def table(board, rows, out=print):
    out("benchmarks on the %s firmware (lower is better; ratio = reference / shimeji)" % board)
    out("%-14s %-58s %10s %10s %-8s %6s" % ("workload", "figure", "shimeji", "reference", "",
                                             "ratio"))
    notes = []
    for r in rows:
        rt = ratio(r)
        out("%-14s %-58s %10s %10s %-8s %6s" % (
            r.get("workload", "")[:14], r.get("metric", "")[:58], r.get("shimeji", "-"),
            r.get("ref", "-"), r.get("ref_name", "")[:8], "%.2f" % rt if rt is not None else "-"))
        note = (r.get("workload"), r.get("note"))
        if note[1] and note not in notes:
            notes.append(note)
    for workload, note in notes:
        out("note, %s: %s" % (workload, note))
    spawn = [r for r in rows if r.get("workload") in ("spawn", "spawn_batches")
             and ratio(r) is not None and r.get("ref_name", "asyncio") == "asyncio"]
    for r in spawn:
        rt = ratio(r)
        out("goal: spawn >= %.0fx asyncio's on 32-bit (%s): %.2fx, %s" % (
            SPAWN_GOAL, r["metric"], rt, "met" if rt >= SPAWN_GOAL else "not met"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "qemu")
    ap.add_argument("--only", help="workloads, comma-separated (default: %s)"
                    % ",".join(WORKLOADS))
    ap.add_argument("--port", help="a board or emulator already running")
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else (
        list(WORKLOADS) + list(THREADED_WORKLOADS.get(args.board, ())))
    rows = []
    try:
        if args.port:
            for n in names:
                rows += run_workload(args.port, n)
        else:
            icount = not (args.board == "esp32" and os.environ.get("CHIP") == "esp32")
            if not icount:
                print("the classic ESP32: no -icount (it does not boot with it); emulated time "
                      "follows the host's clock: take ranges over runs")
            with emulate.booted(args.board, args.micropy_dir, icount=icount) as port:
                for n in names:
                    rows += run_workload(port, n)
    except emulate.Unavailable as e:
        print("skipped: %s" % e)
        return 0
    table(args.port or args.board, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"board": args.board, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
