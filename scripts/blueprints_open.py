"""How many of Kestra's blueprints open in Roost, and why the others do not (grouped).

The blueprint catalogue (kestra-io/blueprints, `flows/*.yaml`) is what users copy first.
Each file carries a catalogue metadata block under a top-level `extend:` key that the
Kestra UI strips before it saves the flow; this script strips it the same way and then runs
Roost's validator (what `roost validate` does) on the rest. Tasks and triggers of plugins
Roost does not implement load as unavailable (they need a mock to run), so what is left
refused is a real gap or a broken blueprint.

    git -C /work/.mirror/kestra-io+blueprints/repo archive HEAD flows | tar -x -C /tmp/bp
    .venv/bin/python scripts/blueprints_open.py /tmp/bp/flows [--verbose] [--target 97]

Exits 1 below the target share of flows that open (default 97%).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from engine.core.errors import InvalidFlowError  # noqa: E402
from engine.flow.loader import load_flow_text  # noqa: E402
from engine.flow.unavailable_types import unavailable_tasks  # noqa: E402

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def strip_extend(text: str) -> str:
    """The flow without its top-level `extend:` block (blank lines keep the line numbers)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("extend:"):
            inside = True
        elif inside and _TOP_LEVEL_KEY.match(line):
            inside = False
        out.append("\n" if inside else line)
    return "".join(out)


def _cause(message: str) -> str:
    """A refusal's reason with the file, line and ids taken out, so alike ones group."""
    reason = message.splitlines()[0]
    reason = re.sub(r"^.*?:\d+:\d+: ", "", reason)
    return re.sub(r"(task|trigger|input|output) '[^']*'", r"\1 …", reason)


def check(folder: Path) -> tuple[int, int, list[tuple[str, str]], Counter[str]]:
    """(flows, opened, [(file, reason)] refused, unavailable task types by use)."""
    paths = sorted(folder.glob("*.y*ml"))
    refused: list[tuple[str, str]] = []
    unavailable: Counter[str] = Counter()
    for path in paths:
        try:
            flow = load_flow_text(strip_extend(path.read_text(encoding="utf-8")), path.name)
        except InvalidFlowError as exc:
            refused.append((path.name, str(exc)))
            continue
        unavailable.update({task.type for task in unavailable_tasks(flow)})
    return len(paths), len(paths) - len(refused), refused, unavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flows", type=Path, help="the blueprints' flows/ folder")
    parser.add_argument("--verbose", "-v", action="store_true", help="each refused file's errors")
    parser.add_argument("--types", action="store_true", help="the unavailable task types, by use")
    parser.add_argument("--target", type=float, default=97.0, help="the share that must open (%%)")
    args = parser.parse_args(argv)
    total, opened, refused, unavailable = check(args.flows)
    share = 100.0 * opened / total if total else 0.0
    print(f"blueprints: {opened} of {total} open ({share:.1f}%); {len(refused)} refused; "
          f"{sum(1 for _ in unavailable)} plugin task types load as unavailable")
    causes = Counter(_cause(message) for _name, message in refused)
    for cause, count in causes.most_common():
        print(f"  {count:3d}  {cause}")
    for name, message in refused:
        print(f"  {name}: {_cause(message)}")
        if args.verbose:
            for line in message.splitlines()[1:]:
                print(f"      {line}")
    if args.types:
        for type_name, count in unavailable.most_common():
            print(f"  {count:3d}  {type_name}")
    return 0 if share >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
