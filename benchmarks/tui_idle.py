"""Idle: CPU used by the workbench when nothing runs, in a real pty (as over SSH).

Starts `roost sample_flows`, waits for the first paint and a settling second, then reads the
process's CPU time (all threads, from /proc) over a window. Baseline in the same run: the same
measure on `sleep`, i.e. the measuring noise. Exits 1 when the workbench uses 2 % of a core or
more.

    .venv/bin/python benchmarks/tui_idle.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_pty import REPO, ROOST, PtyProcess, bench_env  # noqa: E402


def idle_percent(child: PtyProcess, seconds: float) -> float:
    before, started = child.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    used, elapsed = child.cpu_seconds() - before, time.monotonic() - started
    return 100 * used / elapsed


TARGET_PERCENT = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = bench_env(Path(folder) / "home")
        child = PtyProcess([ROOST, "sample_flows"], size=(120, 40), env=env, cwd=REPO)
        try:
            child.wait_for_text("Flows", "q Quit")
            time.sleep(1.5)
            percent = idle_percent(child, args.seconds)
        finally:
            child.stop()
        sleeper = PtyProcess(["sleep", str(args.seconds + 2)], env=env)
        try:
            baseline = idle_percent(sleeper, args.seconds)
        finally:
            sleeper.stop()
    print(f"idle CPU over {args.seconds:.0f} s: {percent:.2f}% of one core "
          f"(baseline `sleep`: {baseline:.2f}%)  (target: < {TARGET_PERCENT:.0f}%)")
    if percent >= TARGET_PERCENT:
        print(f"FAILED: {percent:.2f}% >= {TARGET_PERCENT:.0f}%")
        return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
