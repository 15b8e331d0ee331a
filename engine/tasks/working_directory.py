"""Kestra's WorkingDirectory: runnable children sharing one directory.

Order, as in Kestra: restore the cache, copy namespace files, write inputFiles
(a failure there fails the task before any child runs); run the children one
after another in the directory; then always capture outputFiles and save the
cache; finally run `errors` outside the directory if a child failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.events import WorkingDirectoryChanged
from engine.core.states import State
from engine.core.yaml_source import Position
from engine.tasks.base import FlowableTask, Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.file_transfer import (
    capture_output_files,
    render_input_files,
    render_patterns,
    write_input_files,
)
from engine.tasks.namespace_copy import copy_namespace_files
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.workdir_cache import restore_cache, save_cache


@register
@dataclass(kw_only=True, eq=False)
class WorkingDirectory(FlowableTask):
    """Runs runnable tasks sequentially in one shared working directory."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.WorkingDirectory", "io.kestra.core.tasks.flows.WorkingDirectory",
        "io.kestra.core.tasks.flows.Worker",
    )

    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)
    input_files: Any = prop(kind=Kind.MAP_OR_STRING)
    output_files: Any = prop(kind=Kind.LIST_OR_STRING)
    namespace_files: Any = prop(kind=Kind.MAP)
    cache: Any = prop(kind=Kind.MAP, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        if not self.tasks:
            problems.append(("tasks", "'tasks' must not be empty"))
        for child in self.tasks:
            if child.FLOWABLE:
                problems.append((child.position, "Only runnable tasks are allowed as children of a "
                                 f"WorkingDirectory task ('{child.id}' is {child.type})"))
        if self.cache is not None and not isinstance(self.cache.get("patterns"), list):
            problems.append(("cache", "'cache' needs a 'patterns' list (and optionally a 'ttl')"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        directory = ctx.create_working_directory()
        ctx.publish(WorkingDirectoryChanged(ctx.execution_id, ctx.task_run_id, self.id,
                                                        str(directory)))
        ctx.info(f"working directory: {directory}")
        try:
            # A replay restores the directory as the replayed task found it: inputs included.
            if not ctx.restore_replay_snapshot(directory):
                if self.cache is not None:
                    restore_cache(ctx, directory, self.cache)
                copy_namespace_files(ctx, directory, self.namespace_files)
                write_input_files(ctx, directory, render_input_files(ctx, self.input_files, "inputFiles"),
                                  "inputFiles")
        except TaskFailure as failure:
            ctx.error(f"preparing the working directory failed: {failure.message}")
            return TaskResult(state=State.FAILED)
        state = ctx.run_block(self.tasks, working_dir=directory)
        outputs: dict[str, Any] = {}
        try:
            captured = capture_output_files(ctx, directory, render_patterns(ctx, self.output_files, "outputFiles"))
            if captured:
                outputs["outputFiles"] = captured
        except TaskFailure as failure:
            ctx.error(f"capturing outputFiles failed: {failure.message}")
            state = State.FAILED
        if self.cache is not None:
            try:
                save_cache(ctx, directory, self.cache)
            except TaskFailure as failure:
                ctx.warn(f"saving the cache failed: {failure.message}")
        if state is State.FAILED and self.errors:
            ctx.run_block(self.errors, working_dir=None)
        if self.finally_:
            final = ctx.run_block(self.finally_)
            if final in (State.FAILED, State.KILLED):
                state = final
        return TaskResult(outputs=outputs, state=state)
