"""How Roost fares on Kestra's own test flows: valids that open, invalids refused.

Kestra ships the flows its Java tests run in `core/src/test/resources/flows/valids/` and
`invalids/`. This script loads each with Roost's validator (what `roost validate` does) and
prints what opened, what was refused and why, grouped so the blocking causes stand out:

    git -C KESTRA archive HEAD core/src/test/resources/flows | tar -x -C /tmp/kestra-flows
    .venv/bin/python scripts/kestra_conformance.py /tmp/kestra-flows/core/src/test/resources/flows

Types Kestra's tests define in Java (`io.kestra.core.tasks.test.*`, `...runners.test.*`) exist
only in Kestra's test classpath; they are counted apart, not as Roost's gaps.
It exits 1 when a valid flow is refused for a reason other than a test-only type, or an
invalid flow opens, so it can gate a change.
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
from engine.flow.loader import load_flow  # noqa: E402

TEST_ONLY_TYPE = re.compile(r"io\.kestra\.core\.(tasks|runners)\.test\.\w+")


def _first_reason(error: InvalidFlowError) -> str:
    return str(error).splitlines()[0].split(": ", 1)[-1]


def check_valids(folder: Path) -> tuple[int, list[tuple[str, str]], list[str]]:
    """(opened, [(file, reason)] refused for Roost's reasons, files needing Kestra's test types)."""
    opened, refused, test_only = 0, [], []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            load_flow(path)
            opened += 1
        except InvalidFlowError as exc:
            text = str(exc)
            if TEST_ONLY_TYPE.search(text) and all(
                    TEST_ONLY_TYPE.search(line) or "unknown" not in line for line in text.splitlines()):
                test_only.append(path.name)
            else:
                refused.append((path.name, _first_reason(exc)))
    return opened, refused, test_only


def check_invalids(folder: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """([(file, Roost's reason)] refused, [files Roost opened])."""
    refused, opened = [], []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            load_flow(path)
            opened.append(path.name)
        except InvalidFlowError as exc:
            refused.append((path.name, _first_reason(exc)))
    return refused, opened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flows", type=Path, help="Kestra's core/src/test/resources/flows folder")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each file's reason")
    args = parser.parse_args(argv)
    opened, refused, test_only = check_valids(args.flows / "valids")
    total = opened + len(refused) + len(test_only)
    print(f"valids: {opened} of {total} open; {len(test_only)} need Kestra's Java test task types; "
          f"{len(refused)} refused")
    causes = Counter(re.sub(r"'[^']*\.yaml'|task '[^']*'", "…", reason) for _name, reason in refused)
    for cause, count in causes.most_common():
        print(f"  {count:3d}  {cause}")
    if args.verbose:
        for name, reason in refused:
            print(f"  {name}: {reason}")
    invalid_refused, invalid_opened = check_invalids(args.flows / "invalids")
    print(f"invalids: {len(invalid_refused)} of {len(invalid_refused) + len(invalid_opened)} refused")
    for name in invalid_opened:
        print(f"  opened: {name}")
    if args.verbose:
        for name, reason in invalid_refused:
            print(f"  {name}: {reason}")
    return 1 if refused or invalid_opened else 0


if __name__ == "__main__":
    sys.exit(main())
