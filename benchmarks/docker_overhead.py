"""Cost of running script tasks in containers on the default path, against the docker CLI.

20 sequential shell `Commands` tasks running `true` with no taskRunner, under `--runner auto`
(Kestra 1.x's default: Docker, with the family's default image `ubuntu`, or `--image` as the
tasks' containerImage), vs `docker run --rm IMAGE true` x20 from the shell. Target: Roost
within 1.2x of the CLI; exits 1 when missed (or when a task did not run in a container).
Rounds alternate between the two so that drift on the machine hits both alike.

Needs a Docker engine and the image (tests/services/start.sh tags ubuntu:latest locally).
Run: .venv/bin/python benchmarks/docker_overhead.py [--repeat N] [--tasks N] [--image IMAGE]
Prints medians: see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
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

TARGET_RATIO = 1.2
SHELL_DEFAULT_IMAGE = "ubuntu"  # engine/tasks/scripts.py ScriptTask.DEFAULT_IMAGE, as Kestra's shell tasks


def default_path_tasks(n: int, image: str | None) -> str:
    """Tasks that name no runner: they get the default one (Docker under auto)."""
    image_line = f"    containerImage: {image}\n" if image else ""
    tasks = "".join(f"  - id: c{i}\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                    f"{image_line}    commands: [\"true\"]\n" for i in range(n))
    return f"id: containers\nnamespace: bench\ntasks:\n{tasks}"


def time_roost(runtime: Runtime, text: str, n: int) -> float:
    flow = load_flow_text(text, "bench.yml")
    executor = Executor(runtime)
    started = time.perf_counter()
    execution = executor.run(flow, options=RunOptions(runner="auto"))
    if runtime.history is not None:
        runtime.history.flush()
    elapsed = time.perf_counter() - started
    runs = executor.runtime.history.task_runs(execution.id) if runtime.history is not None else []
    if execution.state.value != "SUCCESS" or len(runs) != n or \
            not all(r.runner and r.runner.startswith("docker ") for r in runs):
        sys.exit(f"the default path did not run every task in a container: {execution.state.value}, "
                 f"runners {sorted({str(r.runner) for r in runs})}")
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
    parser.add_argument("--image", default=None,
                        help=f"the tasks' containerImage (default: none, so {SHELL_DEFAULT_IMAGE})")
    args = parser.parse_args()
    image = args.image or SHELL_DEFAULT_IMAGE
    text = default_path_tasks(args.tasks, args.image)
    # The user's default: no ROOST_RUNNER (a test session's process would hide the default path).
    environ = {k: v for k, v in os.environ.items() if k != "ROOST_RUNNER"}
    with tempfile.TemporaryDirectory() as home:
        runtime = Runtime.create(RoostHome(Path(home)), RoostConfig(), environ=environ)
        time_roost(runtime, default_path_tasks(2, args.image), 2)  # warm-up: imports, engine check
        time_cli(2, image)
        roost, cli = [], []
        for _ in range(args.repeat):
            roost.append(time_roost(runtime, text, args.tasks))
            cli.append(time_cli(args.tasks, image))
        runtime.close()
    r, c = statistics.median(roost), statistics.median(cli)
    ratio = r / c
    print(f"{args.tasks} sequential `true` tasks, no taskRunner, runner auto ({image}), median of {args.repeat}:")
    print(f"  roost (default runner):  {r:6.2f} s  ({r / args.tasks * 1000:5.0f} ms per task)")
    print(f"  docker run --rm (CLI):   {c:6.2f} s  ({c / args.tasks * 1000:5.0f} ms per task)")
    print(f"  ratio roost / CLI:       {ratio:6.2f}x  (target <= {TARGET_RATIO}x)")
    if ratio > TARGET_RATIO:
        print(f"target missed: {ratio:.2f}x > {TARGET_RATIO}x", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
