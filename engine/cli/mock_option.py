"""`roost run --mock TASK_ID=FILE.json | TASK_ID='{...}' | TASK_ID`: mocks for one run.

Each becomes a task stand-in (engine/execution/mock_plan.py) that wins over roost.toml's
[[mocks]] for the same task; a task id the flow does not have is a usage error, not a mock
silently ignored.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from engine.core.errors import UsageError
from engine.core.mocks import mock_from_option

if TYPE_CHECKING:
    from engine.execution.runtime import TaskStandIn
    from engine.flow.model import Flow


def add_mock_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mock", dest="mocks", action="append", default=[],
                        metavar="TASK_ID=OUTPUTS",
                        help="do not run TASK_ID: it ends SUCCESS with these outputs (a JSON file "
                             "or an inline JSON object; none: no outputs); repeatable")


def cli_stand_ins(flow: Flow, options: list[str]) -> Mapping[str, tuple[TaskStandIn, ...]]:
    """The stand-ins `--mock` gives for `flow`; raises UsageError for an unknown task id."""
    from engine.execution.mock_plan import mock_stand_ins  # the executor's, loaded to run

    mocks = [mock_from_option(option) for option in options]
    known = {task.id for task in flow.walk_tasks()}
    for mock in mocks:
        if mock.task not in known:
            raise UsageError(f"--mock {mock.task}: flow {flow.key} has no task '{mock.task}' "
                             f"(its tasks: {', '.join(sorted(known))})")
    return mock_stand_ins(flow, mocks)
