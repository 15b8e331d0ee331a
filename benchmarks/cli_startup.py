"""Whole-process start-up of the headless CLI, against the bare interpreter in the same run.

Target (issue 2): `roost validate` on a small flow under 150 ms, whole process, and no Textual
import for `roost --help` / `roost run --help`.

Run: .venv/bin/python benchmarks/cli_startup.py [--repeat N]; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOST = [sys.executable, "-m", "engine.cli"]


def median_seconds(command: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


VALIDATE_TARGET_S = 0.150


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    bare = median_seconds([sys.executable, "-c", "pass"], args.repeat)
    validate = median_seconds([*ROOST, "validate", "sample_flows/hello.yml"], args.repeat)
    helptext = median_seconds([*ROOST, "run", "--help"], args.repeat)
    textual = median_seconds([sys.executable, "-c", "import textual.app"], args.repeat)
    probe = subprocess.run([sys.executable, "-c", "import sys; from engine.cli.main import main\n"
                            "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
                            "print('textual' in sys.modules, file=sys.stderr)"],
                           cwd=ROOT, capture_output=True, text=True)
    ms = 1000
    print(f"python -c pass                : {bare * ms:.0f} ms (baseline)")
    print(f"roost validate hello.yml      : {validate * ms:.0f} ms ({validate / bare:.1f}x bare; target < 150 ms)")
    print(f"roost run --help              : {helptext * ms:.0f} ms ({helptext / bare:.1f}x bare)")
    print(f"python -c 'import textual.app': {textual * ms:.0f} ms (what the CLI avoids)")
    textual_imported = probe.stderr.strip().splitlines()[-1]
    print(f"textual imported by --help    : {textual_imported} (target: False)")
    missed = [what for what, bad in (("validate >= 150 ms", validate >= VALIDATE_TARGET_S),
                                     ("--help imports textual", textual_imported != "False")) if bad]
    if missed:
        print("MISS: " + ", ".join(missed), file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
