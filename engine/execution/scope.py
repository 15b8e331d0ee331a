"""Where a task runs in the tree: the value type every part of the executor passes along."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.records import TaskRun
from engine.tasks.base import Task


@dataclass(frozen=True)
class Scope:
    """A task's place: its parent run, iteration value, parents' variables and shared directory."""

    parent: TaskRun | None = None
    owner: Task | None = None
    """The flowable task whose children run here (None: the flow itself); hot reload uses it
    to tell which of the owner's task lists a running sequence is."""
    value: str | None = None
    value_path: tuple[str, ...] = ()
    parents: tuple[dict[str, Any], ...] = ()
    working_dir: Path | None = None
    iteration: int | None = None
    """The loop pass of a WaitFor's direct children (Kestra's `taskrun.iteration`); not inherited."""
    retry: Any = None
    """The nearest enclosing flowable's `retry` (YAML map): Kestra retries a failed child with
    it when the child has none of its own; the flowable itself is never re-run."""


def child_scope(scope: Scope, owner: Task, owner_run: TaskRun, *, value: str | None,
                working_dir: Path | None, iteration: int | None = None) -> Scope:
    """The scope of a flowable task's children; a value nests them one ForEach level deeper."""
    entry = {"taskrun": {"value": owner_run.value}, "task": {"id": owner_run.task_id}}
    retry = owner.retry if owner.retry is not None else scope.retry
    if value is None:
        return Scope(parent=owner_run, owner=owner, value=scope.value, value_path=scope.value_path,
                     parents=(entry, *scope.parents), working_dir=working_dir or scope.working_dir,
                     iteration=iteration, retry=retry)
    return Scope(parent=owner_run, owner=owner, value=value, value_path=(*scope.value_path, value),
                 parents=(entry, *scope.parents), working_dir=working_dir or scope.working_dir,
                 iteration=iteration, retry=retry)
