"""What `dependencies` cost a python Script task on the process runner, cold and warm.

Three flows, each one python Script task, in one process and one fresh ROOST_HOME:
- baseline: no `dependencies` (the flow's own venv, built before timing starts);
- cold: `dependencies: [six]` on its first run, with an empty uv cache (UV_CACHE_DIR in a temp
  folder) and no env cache: uv downloads six, makes the venv and installs;
- warm: the same flow again: the env is found by its marker, nothing is installed.
Target: warm adds < 0.5 s over the baseline's median (exits 1 on a miss). Needs PyPI.

Run: .venv/bin/python benchmarks/python_deps.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.config import RoostConfig, RoostHome  # noqa: E402
from engine.execution.executor import Executor  # noqa: E402
from engine.execution.runtime import Runtime  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402

WARM_TARGET_SECONDS = 0.5


def flow(flow_id: str, dependencies: str) -> str:
    return (f"id: {flow_id}\nnamespace: bench\ntasks:\n  - id: py\n"
            "    type: io.kestra.plugin.scripts.python.Script\n"
            "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"
            f"{dependencies}    script: |\n      import sys\n      print(sys.prefix)\n")


def timed_run(runtime: Runtime, text: str) -> float:
    parsed = load_flow_text(text, "bench.yml")
    started = time.perf_counter()
    execution = Executor(runtime).run(parsed)
    elapsed = time.perf_counter() - started
    if execution.state.value != "SUCCESS":
        raise SystemExit(f"the benchmark flow {parsed.id} ended {execution.state.value}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm and baseline runs (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        environ = dict(os.environ)
        environ["UV_CACHE_DIR"] = str(folder / "uv-cache")   # cold: uv has downloaded nothing
        environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
        runtime = Runtime.create(RoostHome(folder / "home"), RoostConfig(), environ=environ)
        try:
            plain = flow("plain", "")
            with_six = flow("six", "    dependencies: [six]\n")
            timed_run(runtime, plain)   # builds the flow's venv; not what is measured
            cold = timed_run(runtime, with_six)
            warm, baseline = [], []
            for _ in range(args.repeat):   # interleaved, so load on the machine hits both alike
                baseline.append(timed_run(runtime, plain))
                warm.append(timed_run(runtime, with_six))
        finally:
            runtime.close()
    base, hot = statistics.median(baseline), statistics.median(warm)
    added = hot - base
    print(f"baseline (no dependencies): {base * 1000:8.1f} ms  (median of {args.repeat})")
    print(f"cold [six], empty caches:   {cold * 1000:8.1f} ms  (+{(cold - base) * 1000:.1f} ms)")
    print(f"warm [six], env cached:     {hot * 1000:8.1f} ms  (+{added * 1000:.1f} ms; "
          f"target < +{WARM_TARGET_SECONDS * 1000:.0f} ms)")
    if added >= WARM_TARGET_SECONDS:
        print("MISSED: a warm run of a task with dependencies costs too much over one without")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
