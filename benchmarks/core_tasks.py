"""Engine time per core task run, history on (Roost issue 17, part 1; exits 1 on a miss).

1. 1,000 sequential `Return` tasks: target < 0.1 ms per task run.
2. ForEach of 10 values > Parallel of 10 `Return` (111 task runs, the flowable ones
   included): target < 0.3 ms per task run.

Each figure is the time from `Executor.run` until the history has committed every event
(what a user waits for), divided by the task runs. Printed beside it, measured interleaved in
the same run: the same flows with history off, the engine's own share. The shell-task slope
lives in benchmarks/task_overhead.py.

Run: .venv/bin/python benchmarks/core_tasks.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.config import RoostConfig, RoostHome  # noqa: E402
from engine.core.events import Event, TaskRunChanged  # noqa: E402
from engine.execution.executor import Executor  # noqa: E402
from engine.execution.runtime import Runtime  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402

SEQUENTIAL_TARGET_MS = 0.1
NESTED_TARGET_MS = 0.3


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


def per_task_run(runtime: Runtime, text: str) -> float:
    """Seconds per task run: the flow run to its end, and its history committed (when on)."""
    flow = load_flow_text(text, "bench.yml")
    executor = Executor(runtime)
    runs: set[str] = set()

    def count(event: Event) -> None:
        if isinstance(event, TaskRunChanged):
            runs.add(event.task_run.id)

    executor.bus.subscribe(count)
    started = time.perf_counter()
    execution = executor.run(flow)
    if runtime.history is not None:
        runtime.history.flush()
    elapsed = time.perf_counter() - started
    assert execution.state.value == "SUCCESS", execution.state
    return elapsed / len(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    flows = {"seq": sequential_returns(1000), "nested": nested_returns(10, 10)}
    figures: dict[tuple[str, bool], list[float]] = {(f, h): [] for f in flows for h in (True, False)}
    with tempfile.TemporaryDirectory() as on, tempfile.TemporaryDirectory() as off:
        runtimes = {True: Runtime.create(RoostHome(Path(on)), RoostConfig()),
                    False: Runtime.create(RoostHome(Path(off)), RoostConfig(), history=False)}
        for runtime in runtimes.values():  # warm-up: imports, the template compile of taskrun.*
            per_task_run(runtime, sequential_returns(50))
            per_task_run(runtime, flows["nested"])
        for _ in range(args.repeat):
            for name, text in flows.items():
                for history, runtime in runtimes.items():
                    figures[(name, history)].append(per_task_run(runtime, text))
        for runtime in runtimes.values():
            runtime.close()
    ms = {key: statistics.median(values) * 1000 for key, values in figures.items()}
    ok = True
    for name, label, target in (("seq", "1,000 sequential Return      ", SEQUENTIAL_TARGET_MS),
                                ("nested", "ForEach x10 > Parallel x10   ", NESTED_TARGET_MS)):
        met = ms[(name, True)] < target
        ok = ok and met
        print(f"{label}: {ms[(name, True)]:.3f} ms per task run, history on (target < {target} ms: "
              f"{'met' if met else 'MISSED'}); history off {ms[(name, False)]:.3f} ms "
              f"(median of {args.repeat}, interleaved)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
