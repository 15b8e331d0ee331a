"""A Pause task's `onResume` inputs: the values a resume gave, typed like flow inputs.

Kestra's `ExecutionService.resume` reads the resume form against the Pause's `onResume`
definitions with the same rules as a flow's inputs (defaults, required, types) and hands the
result to the task as its `onResume` output. Here the execution layer does it for the task,
which may not import `engine.flow`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from engine.core.errors import TaskFailure
from engine.flow.input_values import resolve_inputs
from engine.flow.inputs import InputError, parse_input_definitions


class _PauseContext(Protocol):
    """What of the Pause's task context this needs: its id, a log line, a way to store files."""

    @property
    def task_id(self) -> str: ...

    def warn(self, message: str) -> None: ...

    def store_output_file(self, name: str, path: Path, *, move: bool = True) -> str: ...


def typed_resume_inputs(ctx: _PauseContext, declared: list[Any] | None,
                        given: Mapping[str, Any]) -> dict[str, Any]:
    """Every `onResume` input typed (None when optional and not given); TaskFailure otherwise."""
    if not declared:
        return {}
    definitions, problems = parse_input_definitions(list(declared))
    if problems:
        index, message = problems[0]
        raise TaskFailure(f"task '{ctx.task_id}' property 'onResume' (entry {index + 1}): {message}")
    missing = [d.id for d in definitions if d.required and not d.has_default and given.get(d.id) is None]
    if missing:
        # Kestra's words (it refuses the resume); here the Pause fails instead of hanging.
        raise TaskFailure(f"task '{ctx.task_id}': Invalid input for `{missing[0]}`, missing required "
                          f"input, but received `null` (give it when resuming, or declare a "
                          f"`defaults` / `required: false` in 'onResume')")

    def store_file(input_id: str, path: Path) -> str:
        return ctx.store_output_file(f"onResume-{input_id}-{path.name}", path, move=False)

    try:
        return resolve_inputs(definitions, given, store_file=store_file, on_unknown=ctx.warn)
    except InputError as bad:
        raise TaskFailure(f"task '{ctx.task_id}' onResume: {bad.message}") from None
