"""Tasks built while an execution runs (TemplatedTask's rendered `spec`), checked as a flow's are.

Building a task from a map needs the flow layer (the registry lookup, property
conversion, pluginDefaults), which tasks may not import; the executor's task
context calls this on their behalf. Mistakes come back as one TaskFailure that
lists each problem with its line in the rendered spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.errors import TaskFailure
from engine.core.yaml_source import YamlMap
from engine.flow.task_builder import TaskBuilder
from engine.tasks.base import Task


def build_task(spec: YamlMap, where: str, plugin_defaults: Iterable[Mapping[str, Any]]) -> Task:
    """The typed task `spec` describes, with the flow's pluginDefaults applied; TaskFailure if invalid."""
    builder = TaskBuilder(where, plugin_defaults)
    task = builder.build(spec, spec.position)
    if builder.errors or task is None:
        problems = "; ".join(f"line {e.line}: {e.message}" for e in builder.errors) or "not a task"
        raise TaskFailure(f"{where} is not a valid task: {problems}")
    return task
