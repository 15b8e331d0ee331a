"""Start: `roost sample_flows` to its first full paint, whole process, in a real pty.

"Full paint" is the moment the terminal has received the flow list, the task tree of the first
flow and the footer. Baseline measured in the same run, interleaved round by round:
`python -c "import textual.app"`, the least any Textual app pays before its first frame.
Both are also measured in CPU time (the process's user + system time, all threads), which a
busy machine inflates far less than wall time.

Exits 1 when the median start is not under 500 ms.

    .venv/bin/python benchmarks/tui_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_pty import PYTHON, REPO, ROOST, PtyProcess, bench_env, median  # noqa: E402

PAINTED = ("Flows", "clean python.Script", "q Quit")
TARGET_MS = 500


def time_start(home: Path) -> tuple[float, float]:
    """Wall seconds to the full paint, and the CPU seconds the process had used by then."""
    child = PtyProcess([ROOST, "sample_flows"], size=(120, 40), env=bench_env(home), cwd=REPO)
    try:
        painted = child.wait_for_text(*PAINTED, timeout=30)
        return painted, child.cpu_seconds()
    finally:
        child.stop()


def time_import_textual() -> tuple[float, float]:
    started = time.monotonic()
    process = subprocess.Popen([PYTHON, "-c", "import textual.app"])
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit("python -c 'import textual.app' failed")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    starts, baselines = [], []
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        time_start(home)  # warm the file cache and the history database once
        time_import_textual()
        for _ in range(args.runs):
            starts.append(time_start(home))
            baselines.append(time_import_textual())
    start, baseline = median([s for s, _ in starts]), median([b for b, _ in baselines])
    start_cpu, baseline_cpu = median([c for _, c in starts]), median([c for _, c in baselines])
    walls = [s for s, _ in starts]
    print(f"start to first full paint: median {start * 1000:.0f} ms over {args.runs} runs "
          f"(min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f}); CPU by then "
          f"{start_cpu * 1000:.0f} ms")
    print(f"baseline python -c 'import textual.app' (same run, interleaved): median "
          f"{baseline * 1000:.0f} ms; CPU {baseline_cpu * 1000:.0f} ms")
    print(f"ratio start / import textual: {start / baseline:.1f}x wall, "
          f"{start_cpu / baseline_cpu:.1f}x CPU  (target: start < {TARGET_MS} ms)")
    if start * 1000 >= TARGET_MS:
        print(f"FAILED: median start {start * 1000:.0f} ms >= {TARGET_MS} ms")
        return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
