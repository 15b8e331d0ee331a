"""The base of every task type: common Kestra properties and the run contract.

A task class is a dataclass of its properties plus `run(ctx)`, as Kestra's
plugin classes are. Runnable tasks return their outputs; flowable tasks run
their children through the context and return a TaskResult with their state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.core.states import State
from engine.core.yaml_source import Position, YamlMap
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop


@dataclass
class TaskResult:
    """What a task run ended with; runnable tasks may return a bare outputs dict instead."""

    outputs: dict[str, Any] = field(default_factory=dict)
    state: State = State.SUCCESS


@dataclass(kw_only=True, eq=False)
class Task:
    """Common properties of every Kestra task."""

    TYPES: ClassVar[tuple[str, ...]] = ()
    FLOWABLE: ClassVar[bool] = False
    DEPRECATION: ClassVar[str | None] = None
    OWN_TIMEOUT: ClassVar[bool] = False
    """True when `timeout` means something else to the task (Pause: how long to await a resume),
    so the executor does not stop it when that time passes."""

    id: str = prop(kind=Kind.STRING, required=True, dynamic=False)
    type: str = prop(kind=Kind.STRING, required=True, dynamic=False)
    description: str | None = prop(kind=Kind.STRING, dynamic=False)
    disabled: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    run_if: Any = prop(None)
    allow_failure: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    allow_warning: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    timeout: Any = prop(None, kind=Kind.DURATION)
    retry: Any = prop(None, kind=Kind.MAP, dynamic=False)
    log_level: str | None = prop(kind=Kind.STRING, dynamic=False)
    log_to_file: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    worker_group: Any = prop(None, kind=Kind.MAP, dynamic=False)
    version: str | None = prop(kind=Kind.STRING, dynamic=False)
    # Newer Kestra (the blueprint catalogue uses them): accepted so those flows open, not applied.
    task_cache: Any = prop(None, kind=Kind.MAP, dynamic=False,
                           deprecated="is not applied by Roost: the task runs every time")
    assets: Any = prop(None, kind=Kind.MAP, dynamic=False,
                       deprecated="is not recorded by Roost (Kestra EE assets)")

    source: YamlMap = field(default_factory=YamlMap, repr=False)
    source_path: str = field(default="", repr=False)

    @property
    def position(self) -> Position:
        return self.source.position

    @property
    def canonical_type(self) -> str:
        return self.TYPES[0] if self.TYPES else self.type

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        """Every (property name, tasks) list this task nests; flowables override it."""
        return iter(())

    def all_children(self) -> Iterator[Task]:
        for _name, tasks in self.child_task_lists():
            yield from tasks

    def validate(self) -> list[tuple[str | Position, str]]:
        """Task-specific checks after the generic ones: (property or exact position, message) pairs."""
        return []

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:
        raise NotImplementedError


@dataclass(kw_only=True, eq=False)
class FlowableTask(Task):
    """A task that runs other tasks; it has no process of its own."""

    FLOWABLE: ClassVar[bool] = True

    errors: list[Task] = prop(factory=list, kind=Kind.TASKS, dynamic=False)
    finally_: list[Task] = prop(factory=list, kind=Kind.TASKS, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "errors", self.errors
        yield "finally", self.finally_
