"""Engine time per task, with history on; compared in the same run with physical floors.

1. 1,000 sequential Return tasks, and 100 Return tasks nested in ForEach + Parallel:
   engine time per core task (target < 0.3 ms).
2. 100 sequential shell `Commands` tasks running `true` inside one WorkingDirectory vs a
   plain Python loop of 100 `subprocess.run(["sh", "-c", "true"])` (target <= 1.3x).

Run: .venv/bin/python benchmarks/task_overhead.py [--repeat N]
Prints medians; no assertion (these machines are noisy): see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.config import RoostConfig, RoostHome  # noqa: E402
from engine.execution.executor import Executor  # noqa: E402
from engine.execution.runtime import Runtime  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402


def sequential_returns(n: int) -> str:
    tasks = "".join(
        f"  - id: r{i}\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{{{ taskrun.id }}}}-{i}\"\n"
        for i in range(n))
    return f"id: seq\nnamespace: bench\ntasks:\n{tasks}"


def nested_returns(values: int, per_branch: int) -> str:
    vals = ", ".join(f'"{i}"' for i in range(values))
    branches = "".join(
        f"          - id: p{j}\n            type: io.kestra.plugin.core.debug.Return\n"
        f"            format: \"{{{{ taskrun.value }}}}-{j}\"\n" for j in range(per_branch))
    return (f"id: nested\nnamespace: bench\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
            f"    values: [{vals}]\n    concurrencyLimit: 1\n    tasks:\n      - id: par\n"
            f"        type: io.kestra.plugin.core.flow.Parallel\n        tasks:\n{branches}")


def shell_in_workdir(n: int) -> str:
    tasks = "".join(f"      - id: c{i}\n        type: io.kestra.plugin.scripts.shell.Commands\n"
                    f"        commands: [\"true\"]\n" for i in range(n))
    return (f"id: shells\nnamespace: bench\ntasks:\n  - id: wdir\n"
            f"    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n{tasks}")


def time_flow(runtime: Runtime, text: str) -> tuple[float, int]:
    flow = load_flow_text(text, "bench.yml")
    executor = Executor(runtime)
    started = time.perf_counter()
    execution = executor.run(flow)
    runtime.history.flush()
    elapsed = time.perf_counter() - started
    assert execution.state.value == "SUCCESS", execution.state
    return elapsed, len(executor.runtime.history.task_runs(execution.id))


def subprocess_loop(n: int, capture: bool = False) -> float:
    started = time.perf_counter()
    for _ in range(n):
        subprocess.run(["sh", "-c", "true"], check=True, capture_output=capture)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        runtime = Runtime.create(RoostHome(Path(home)), RoostConfig())
        time_flow(runtime, sequential_returns(50))  # warm-up: imports, template compile
        seq, nested, shells, loops, captured = [], [], [], [], []
        for _ in range(args.repeat):
            elapsed, runs = time_flow(runtime, sequential_returns(1000))
            seq.append(elapsed / runs)
            elapsed, runs = time_flow(runtime, nested_returns(10, 10))
            nested.append(elapsed / runs)
            shells.append(time_flow(runtime, shell_in_workdir(100))[0])
            loops.append(subprocess_loop(100))
            captured.append(subprocess_loop(100, capture=True))
        runtime.close()
    ms = 1000
    print(f"sequential Return x1000      : {statistics.median(seq) * ms:.3f} ms per task run (median of {args.repeat})")
    print(f"ForEach x10 > Parallel x10   : {statistics.median(nested) * ms:.3f} ms per task run (incl. flowable runs)")
    shell, loop = statistics.median(shells), statistics.median(loops)
    print(f"100 shell Commands in wdir   : {shell * ms:.1f} ms ({shell * 10:.2f} ms per task)")
    print(f"100 subprocess.run sh -c true: {loop * ms:.1f} ms ({loop * 10:.2f} ms per call)")
    piped = statistics.median(captured)
    print(f"same, capture_output=True    : {piped * ms:.1f} ms ({piped * 10:.2f} ms per call)")
    print(f"ratio Roost / plain loop     : {shell / loop:.2f}x (target <= 1.3x)")
    print(f"ratio Roost / capturing loop : {shell / piped:.2f}x (Roost also streams both pipes)")


if __name__ == "__main__":
    main()
