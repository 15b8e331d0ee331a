"""Per-task cost of shell tasks, whole process, against the physical floor in the same run.

Shell `Commands` tasks running `true` inside one WorkingDirectory, whole process
   (`roost run --runner process`, flow parse included, as a user runs it) on flows of 20
   and 200 tasks; the slope (t200 - t20) / 180 against the same slope of a whole Python
   process looping `subprocess.run(["sh", "-c", "true"])` (target <= 1.3x; exits 1 on a miss).

Core tasks (Return, ForEach x Parallel) are benchmarks/core_tasks.py's.
Run: .venv/bin/python benchmarks/task_overhead.py [--repeat N]
Prints medians (see benchmarks/README.md); exits 1 when the shell-task slope misses its target.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))



def shell_in_workdir(n: int) -> str:
    tasks = "".join(f"      - id: c{i}\n        type: io.kestra.plugin.scripts.shell.Commands\n"
                    f"        commands: [\"true\"]\n" for i in range(n))
    return (f"id: shells\nnamespace: bench\ntasks:\n  - id: wdir\n"
            f"    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n{tasks}")


SLOPE_SIZES = (20, 200)
SLOPE_TARGET = 1.3
_LOOP = "import subprocess, sys\nfor _ in range(int(sys.argv[1])): subprocess.run(['sh', '-c', 'true'])\n"


def _whole_process(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds, and CPU seconds of the process and everything it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def shell_slopes(rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Per round, seconds per extra task: `roost run --runner process` of the 20- and
    200-task flows, and a Python process looping subprocess.run 20 and 200 times; all four
    interleaved so the machine's load hits both sides alike. Start-up cancels out."""
    roost = Path(sys.executable).with_name("roost")
    base = [str(roost)] if roost.exists() else [sys.executable, "-m", "engine.cli"]
    small, big = SLOPE_SIZES
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = os.environ | {"ROOST_HOME": str(folder / "home")}
        commands: dict[str, dict[int, list[str]]] = {"roost": {}, "loop": {}}
        for n in SLOPE_SIZES:
            flow = folder / f"shells{n}.yml"
            flow.write_text(shell_in_workdir(n), encoding="utf-8")
            commands["roost"][n] = [*base, "run", "--runner", "process", str(flow)]
            commands["loop"][n] = [sys.executable, "-c", _LOOP, str(n)]
        for side in commands.values():  # warm-up: the page cache, byte-compiled modules
            _whole_process(side[small], folder, env)
        slopes: dict[str, list[tuple[float, float]]] = {"roost": [], "loop": []}
        for _ in range(rounds):
            for name, side in commands.items():
                wall_small, cpu_small = _whole_process(side[small], folder, env)
                wall_big, cpu_big = _whole_process(side[big], folder, env)
                slopes[name].append(((wall_big - wall_small) / (big - small),
                                     (cpu_big - cpu_small) / (big - small)))
    return slopes


def report_shell_slopes(rounds: int) -> bool:
    """Print the slopes and their ratio; True when the ratio meets SLOPE_TARGET."""
    slopes = shell_slopes(rounds)
    roost, loop = ([wall for wall, _ in slopes[side]] for side in ("roost", "loop"))
    cpu_roost, cpu_loop = (statistics.median(cpu for _, cpu in slopes[side]) for side in ("roost", "loop"))
    ms = 1000
    ratio = statistics.median(roost) / statistics.median(loop)
    per_round = statistics.median(r / p for r, p in zip(roost, loop, strict=True))
    small, big = SLOPE_SIZES
    print(f"shell `true` in a WorkingDirectory, roost run --runner process, slope {small}->{big}: "
          f"{statistics.median(roost) * ms:.3f} ms per task (median of {rounds})")
    print(f"python process looping subprocess.run sh -c true, same slope     : "
          f"{statistics.median(loop) * ms:.3f} ms per call")
    print(f"ratio Roost / loop (slopes)  : {ratio:.2f}x (median of per-round ratios {per_round:.2f}x; "
          f"target <= {SLOPE_TARGET}x)")
    print(f"CPU time slopes (all processes): Roost {cpu_roost * ms:.3f} ms, loop {cpu_loop * ms:.3f} ms "
          f"per task ({cpu_roost / cpu_loop:.2f}x; less noisy, not the target)")
    if ratio > SLOPE_TARGET:
        print(f"MISSED: shell task slope {ratio:.2f}x > {SLOPE_TARGET}x")
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shell-only", action="store_true", help="kept for old scripts: the only part")
    args = parser.parse_args()
    sys.exit(0 if report_shell_slopes(args.repeat) else 1)


if __name__ == "__main__":
    main()
