"""Cost of running script tasks in containers, against the docker CLI in the same run.

20 sequential shell `Commands` tasks running `true` in containers (runner docker), vs
`docker run --rm IMAGE true` x20 from the shell. Target: Roost within 1.2x of the CLI.
Rounds alternate between the two so that drift on the machine hits both alike.

Needs a Docker engine and the image (tests/services/start.sh builds python:3.11-slim locally).
Run: .venv/bin/python benchmarks/docker_overhead.py [--repeat N] [--tasks N] [--image IMAGE]
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
from engine.execution.runtime import RunOptions, Runtime  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402


def container_tasks(n: int, image: str) -> str:
    tasks = "".join(f"  - id: c{i}\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                    f"    docker:\n      image: {image}\n    commands: [\"true\"]\n" for i in range(n))
    return f"id: containers\nnamespace: bench\ntasks:\n{tasks}"


def time_roost(runtime: Runtime, text: str, n: int) -> float:
    flow = load_flow_text(text, "bench.yml")
    executor = Executor(runtime)
    started = time.perf_counter()
    execution = executor.run(flow, options=RunOptions(runner="docker"))
    if runtime.history is not None:
        runtime.history.flush()
    elapsed = time.perf_counter() - started
    runs = executor.runtime.history.task_runs(execution.id) if runtime.history is not None else []
    assert execution.state.value == "SUCCESS", execution.state
    assert len(runs) == n and all(r.runner and r.runner.startswith("docker ") for r in runs), \
        [r.runner for r in runs]
    return elapsed


def time_cli(n: int, image: str) -> float:
    started = time.perf_counter()
    subprocess.run(["sh", "-c", f"for i in $(seq {n}); do docker run --rm {image} true || exit 1; done"],
                   check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--image", default="python:3.11-slim")
    args = parser.parse_args()
    text = container_tasks(args.tasks, args.image)
    with tempfile.TemporaryDirectory() as home:
        runtime = Runtime.create(RoostHome(Path(home)), RoostConfig())
        time_roost(runtime, container_tasks(2, args.image), 2)  # warm-up: imports, engine check
        time_cli(2, args.image)
        roost, cli = [], []
        for _ in range(args.repeat):
            roost.append(time_roost(runtime, text, args.tasks))
            cli.append(time_cli(args.tasks, args.image))
        runtime.close()
    r, c = statistics.median(roost), statistics.median(cli)
    print(f"{args.tasks} sequential `true` tasks in containers ({args.image}), median of {args.repeat}:")
    print(f"  roost (runner docker):   {r:6.2f} s  ({r / args.tasks * 1000:5.0f} ms per task)")
    print(f"  docker run --rm (CLI):   {c:6.2f} s  ({c / args.tasks * 1000:5.0f} ms per task)")
    print(f"  ratio roost / CLI:       {r / c:6.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
