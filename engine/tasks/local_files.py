"""Kestra's LocalFiles (deprecated): inputFiles/outputFiles as a task, in a WorkingDirectory or on its own."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

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
    """Writes `inputs` into the shared directory (or a private one) and captures `outputs` globs as `uris`."""

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
            # Kestra runs it anywhere: outside a WorkingDirectory the task has a directory of
            # its own, so `outputs` can only capture what `inputs` just wrote there.
            with tempfile.TemporaryDirectory(prefix="roost-localfiles-") as own:
                return self._transfer(ctx, Path(own))
        return self._transfer(ctx, directory)

    def _transfer(self, ctx: TaskContext[Task], directory: Path) -> dict[str, Any]:
        write_input_files(ctx, directory, render_input_files(ctx, self.inputs, "inputs"), "inputs")
        uris = capture_output_files(ctx, directory, render_patterns(ctx, self.outputs, "outputs"))
        return {"uris": uris}
