"""Loading a 200-task flow: libyaml against PyYAML's pure-Python parser (Roost issue 17;
exits 1 on a miss).

`load_yaml` parses with libyaml's C parser and Roost's own constructor (positions kept); the
baseline, measured interleaved in the same run, is the pure-Python loader it falls back to
where libyaml is missing. Target: libyaml's load at most 0.5x the pure-Python one. Also
printed: the whole `load_flow_text` (parse, task building, checks).

Run: .venv/bin/python benchmarks/flow_parse.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core import yaml_source  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402

TASKS = 200
TARGET_RATIO = 0.5


def flow_text(n: int) -> str:
    tasks = "".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    description: step {i} of the nightly load\n    timeout: PT1M\n"
        f"    env:\n      STEP: \"{i}\"\n    commands:\n      - echo {i}\n"
        f"      - \"echo {{{{ taskrun.id }}}} {{{{ inputs.day }}}}\"\n" for i in range(n))
    return (f"id: big\nnamespace: bench\ninputs:\n  - id: day\n    type: STRING\n    defaults: monday\n"
            f"tasks:\n{tasks}")


def pure_python(text: str) -> Any:
    loader = yaml_source._PositionLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    text = flow_text(TASKS)
    ways: dict[str, Callable[[str], Any]] = {
        "pure": pure_python,
        "libyaml": lambda t: yaml_source.load_yaml(t, "big.yml"),
        "flow": lambda t: load_flow_text(t, "big.yml"),
    }
    if not yaml_source.LIBYAML:
        print("PyYAML has no libyaml here: nothing to compare")
        sys.exit(1)
    assert ways["libyaml"](text) == ways["pure"](text)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeat):
        for name, way in ways.items():
            started = time.perf_counter()
            way(text)
            times[name].append(time.perf_counter() - started)
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    ratio = ms["libyaml"] / ms["pure"]
    print(f"{TASKS}-task flow ({len(text):,} characters), median of {args.repeat}, interleaved:")
    print(f"  pure-Python PyYAML loader (baseline): {ms['pure']:.1f} ms")
    print(f"  load_yaml on libyaml                : {ms['libyaml']:.1f} ms ({ratio:.2f}x; target <= "
          f"{TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    print(f"  load_flow_text, whole               : {ms['flow']:.1f} ms")
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
