"""What a Subflow task and one ForEachItem batch cost, against a plain Return task, in one process.

Three flows run with history on, in the same process and ROOST_HOME:
1. N sequential Return tasks: the floor, engine time per task.
2. N sequential Subflow tasks, each calling a child flow of one Return task (its output
   handed back): per Subflow task, i.e. a whole child execution (lookup, inputs, labels, its
   own executor thread and history records) plus the task that waits for it.
3. One ForEachItem over an N-line file with `batch.rows: 1`, the same child per batch: per
   batch (the split, N child executions at most 4 at a time, the merge of their outputs).

Targets, as ratios to the Return task measured in the same run (so a slow machine slows both):
a Subflow <= 15x a Return, a ForEachItem batch <= 20x. A Subflow is a whole execution: it
records an execution and two task runs with their state changes (about 10 events against a
Return's 3), starts a thread, checks inputs and renders flow outputs, so a few Returns'
worth is its floor; 15x keeps it well under the child's own work as soon as that runs one
shell task (about 10 ms, 10-30 Returns). A batch adds its share of the split and the merge:
two stored files (its batch, its outputs line) and their events, hence 20x.
Exits 1 when a ratio is over its target.

Run: .venv/bin/python benchmarks/subflow_overhead.py [--tasks N] [--repeat N]
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
from engine.execution.executor import Executor  # noqa: E402
from engine.execution.runtime import Runtime  # noqa: E402
from engine.flow.loader import load_flow  # noqa: E402

SUBFLOW_TARGET = 15.0
BATCH_TARGET = 20.0

CHILD = """id: child
namespace: bench.sub
inputs:
  - id: value
    type: STRING
    defaults: x
tasks:
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.value }}"
outputs:
  - id: value
    type: STRING
    value: "{{ outputs.echo.value }}"
"""


def returns_flow(n: int) -> str:
    tasks = "".join(f"  - id: r{i}\n    type: io.kestra.plugin.core.debug.Return\n"
                    f"    format: \"{{{{ taskrun.id }}}}-{i}\"\n" for i in range(n))
    return f"id: returns\nnamespace: bench\ntasks:\n{tasks}"


def subflows_flow(n: int) -> str:
    tasks = "".join(f"  - id: s{i}\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: bench.sub\n"
                    f"    flowId: child\n    inputs:\n      value: \"{i}\"\n" for i in range(n))
    return f"id: subflows\nnamespace: bench\ntasks:\n{tasks}"


def foreach_item_flow() -> str:
    return ("id: batches\nnamespace: bench\ninputs:\n  - id: file\n    type: FILE\ntasks:\n"
            "  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n"
            "    batch:\n      rows: 1\n    namespace: bench.sub\n    flowId: child\n"
            "    inputs:\n      value: \"{{ read(taskrun.items) }}\"\n")


def time_flow(runtime: Runtime, path: Path, inputs: dict[str, str] | None = None) -> float:
    flow = load_flow(path)
    executor = Executor(runtime)
    started = time.perf_counter()
    execution = executor.run(flow, inputs)
    assert runtime.history is not None
    runtime.history.flush()
    elapsed = time.perf_counter() - started
    if execution.state.value != "SUCCESS":
        raise SystemExit(f"{path.name} ended {execution.state.value}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.tasks
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        flows = root / "flows"
        flows.mkdir()
        (flows / "child.yml").write_text(CHILD)
        (flows / "returns.yml").write_text(returns_flow(n))
        (flows / "subflows.yml").write_text(subflows_flow(n))
        (flows / "batches.yml").write_text(foreach_item_flow())
        items = root / "items.txt"
        items.write_text("".join(f"row {i}\n" for i in range(n)))
        runtime = Runtime.create(RoostHome(root / "home"), RoostConfig())
        time_flow(runtime, flows / "subflows.yml")   # warm-up: imports, template compile
        returns, subflows, batches = [], [], []
        for _ in range(args.repeat):
            returns.append(time_flow(runtime, flows / "returns.yml") / n)
            subflows.append(time_flow(runtime, flows / "subflows.yml") / n)
            batches.append(time_flow(runtime, flows / "batches.yml", {"file": str(items)}) / n)
        runtime.close()
    per_return, per_subflow, per_batch = (statistics.median(x) for x in (returns, subflows, batches))
    ms = 1000
    subflow_ratio, batch_ratio = per_subflow / per_return, per_batch / per_return
    print(f"Return x{n}                 : {per_return * ms:.3f} ms per task (median of {args.repeat})")
    print(f"Subflow x{n} (1-task child) : {per_subflow * ms:.3f} ms per task")
    print(f"ForEachItem, {n} batches     : {per_batch * ms:.3f} ms per batch")
    print(f"ratio Subflow / Return       : {subflow_ratio:.1f}x (target <= {SUBFLOW_TARGET:g}x)")
    print(f"ratio batch / Return         : {batch_ratio:.1f}x (target <= {BATCH_TARGET:g}x)")
    over = subflow_ratio > SUBFLOW_TARGET or batch_ratio > BATCH_TARGET
    if over:
        print("over target", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
