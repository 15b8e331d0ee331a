"""A loaded, validated flow: what the executor runs and the workbench shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.yaml_source import YamlMap

if TYPE_CHECKING:
    from engine.flow.inputs import InputDefinition
    from engine.tasks.base import Task


@dataclass(frozen=True)
class FlowOutput:
    """A flow-level output: `value` is rendered after the tasks succeed."""

    id: str
    type: str
    value: Any


@dataclass(eq=False)
class Flow:
    """A flow as Kestra defines it; `path` and `text` say where it came from."""

    id: str
    namespace: str
    tasks: list[Task]
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    inputs: list[InputDefinition] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    errors: list[Task] = field(default_factory=list)
    finally_: list[Task] = field(default_factory=list)
    outputs: list[FlowOutput] = field(default_factory=list)
    triggers: list[YamlMap] = field(default_factory=list)
    plugin_defaults: list[dict[str, Any]] = field(default_factory=list)
    disabled: bool = False
    concurrency: dict[str, Any] | None = None
    retry: dict[str, Any] | None = None
    path: str = ""
    text: str = ""
    raw: YamlMap = field(default_factory=YamlMap, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.namespace}.{self.id}"

    def walk_tasks(self) -> Iterator[Task]:
        """Every task of the flow, depth first, in file order (errors and finally included)."""
        for tasks in (self.tasks, self.errors, self.finally_):
            for task in tasks:
                yield from _walk(task)

    def find_task(self, task_id: str) -> Task | None:
        return next((t for t in self.walk_tasks() if t.id == task_id), None)


def _walk(task: Task) -> Iterator[Task]:
    yield task
    for child in task.all_children():
        yield from _walk(child)
