"""Start: `roost sample_flows` to its first full paint, whole process, in a real pty.

"Full paint" is the moment the terminal has received the flow list, the task tree of the first
flow and the footer. Baseline measured in the same run: `python -c "import textual"`.

    .venv/bin/python benchmarks/tui_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_pty import PYTHON, REPO, ROOST, PtyProcess, bench_env, median  # noqa: E402

PAINTED = ("Flows", "clean python.Script", "q Quit")


def time_start(home: Path) -> float:
    child = PtyProcess([ROOST, "sample_flows"], size=(120, 40), env=bench_env(home), cwd=REPO)
    try:
        return child.wait_for_text(*PAINTED, timeout=30)
    finally:
        child.stop()


def time_import_textual() -> float:
    started = time.monotonic()
    subprocess.run([PYTHON, "-c", "import textual.app"], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        time_start(home)  # warm the file cache and the history database once
        starts = [time_start(home) for _ in range(args.runs)]
    baselines = [time_import_textual() for _ in range(args.runs)]
    start, baseline = median(starts), median(baselines)
    print(f"start to first full paint: median {start * 1000:.0f} ms over {args.runs} runs "
          f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f})")
    print(f"baseline python -c 'import textual.app': median {baseline * 1000:.0f} ms")
    print(f"ratio start / import textual: {start / baseline:.1f}x  (target: start < 1000 ms)")


if __name__ == "__main__":
    main()
