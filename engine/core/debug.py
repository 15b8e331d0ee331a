"""What the debugger and its users exchange: the commands a pause accepts and what a pause shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class DebugCommand(Enum):
    """What to do with the task the execution is paused before."""

    NEXT = "next"          # run it, then pause before the next task (step mode on)
    CONTINUE = "continue"  # run on until the next breakpoint (step mode off)
    SKIP = "skip"          # do not run it (SKIPPED), pause before the next task
    ABORT = "abort"        # kill the execution
    RERUN = "rerun"        # run the task that finished last again, then pause here again


@dataclass(frozen=True)
class PauseInspection:
    """Everything shown while paused before a task; values already masked and JSON-safe."""

    execution_id: str
    task_id: str
    task_run_id: str
    task_type: str
    reason: str                                   # "breakpoint" or "step"
    properties: dict[str, Any] = field(default_factory=dict)
    property_errors: dict[str, str] = field(default_factory=dict)
    source_line: int = 1
    source: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    working_dir: str | None = None
    previous_task_id: str | None = None           # what RERUN would run again
