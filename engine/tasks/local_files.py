"""Kestra's LocalFiles (deprecated): inputFiles/outputFiles as a task inside a WorkingDirectory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.file_transfer import (
    capture_output_files,
    render_input_files,
    render_patterns,
    write_input_files,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register


@register
@dataclass(kw_only=True, eq=False)
class LocalFiles(Task):
    """Writes `inputs` into the shared directory and captures `outputs` globs as `uris`."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.storage.LocalFiles", "io.kestra.core.tasks.storages.LocalFiles",
    )
    DEPRECATION: ClassVar[str | None] = (
        "LocalFiles is deprecated in Kestra; use inputFiles/outputFiles on the WorkingDirectory "
        "or the script task"
    )

    inputs: Any = prop(kind=Kind.MAP_OR_STRING)
    outputs: Any = prop(kind=Kind.LIST_OR_STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        directory = ctx.working_dir
        if directory is None:
            raise TaskFailure("LocalFiles must be inside a WorkingDirectory task (it has no directory of its own)")
        write_input_files(ctx, directory, render_input_files(ctx, self.inputs, "inputs"), "inputs")
        uris = capture_output_files(ctx, directory, render_patterns(ctx, self.outputs, "outputs"))
        return {"uris": uris}
