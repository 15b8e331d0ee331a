"""What every runner shares: the job it runs, the contract it keeps, and the process runner.

Both the choice of a runner (selection.py) and the Docker runner (docker_backend.py)
need these; they live apart so that neither of those two modules imports the other
for its types, and the process runner is what both fall back to.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.errors import TaskFailure
from engine.runners.context import RunnerContext
from engine.runners.line_splitter import LinesHandler
from engine.runners.process import ProcessResult, ProcessRunner, ProcessSpec, ProcessStartError

if TYPE_CHECKING:
    from engine.core.config import RoostHome


@dataclass(frozen=True)
class ScriptJob:
    """A command line to run in a directory, whatever the runner."""

    args: list[str]
    cwd: Path
    env: dict[str, str]
    marker: str
    default_image: str = "ubuntu"
    volumes: tuple[str, ...] = ()
    """Extra container mounts the task needs (a python dependency cache); the process runner has none."""


@dataclass(frozen=True)
class ContainerRequest:
    """What the flow asked of a container: image and the Docker runner's options (YAML values)."""

    image: str
    options: dict[str, Any] = field(default_factory=dict)
    by_default: bool = False
    """The task named no runner: Kestra 1.x's default task runner (Docker) applies, not an explicit ask."""


class RunnerBackend(Protocol):
    """Runs one job to its end, streaming (stream, line) pairs to ``on_line``.

    ``on_lines``, when given, is the same reader taking the lines of one read as a list: a
    runner may use it instead of ``on_line`` (a flood of lines then costs one call per read).
    """

    name: str

    def run(self, ctx: RunnerContext, job: ScriptJob, on_line: Callable[[str, str], None],
            on_lines: LinesHandler | None = None) -> ProcessResult:
        ...


@functools.lru_cache(maxsize=16)
def _python_shim(search_path: str, home: RoostHome) -> str | None:
    """A folder with `python` -> python3 when the task's PATH only has python3 (Kestra's images have both).

    Cached per PATH: looking the interpreters up costs a stat per PATH entry, per task otherwise.
    """
    if shutil.which("python", path=search_path):
        return None
    python3 = shutil.which("python3", path=search_path) or sys.executable
    folder = home.cache / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "python"
    if not link.exists():
        try:
            link.symlink_to(python3)
        except FileExistsError:
            pass
    return str(folder)


class ProcessBackend:
    """Runs the command as a local process group (Kestra's Process task runner)."""

    name = "process"

    def run(self, ctx: RunnerContext, job: ScriptJob, on_line: Callable[[str, str], None],
            on_lines: LinesHandler | None = None) -> ProcessResult:
        env = {**ctx.environ, **job.env, "WORKING_DIR": str(job.cwd), "PYTHONUNBUFFERED": "1"}
        shim = _python_shim(env.get("PATH", os.defpath), ctx.home)  # keyed by the home: no Path built per task
        if shim:
            env["PATH"] = shim + os.pathsep + env.get("PATH", "")
        ctx.set_runner("process")
        try:
            return ProcessRunner().run(ProcessSpec(args=job.args, cwd=job.cwd, env=env, marker=job.marker),
                                       on_line, ctx.stop, on_lines)
        except ProcessStartError as exc:
            raise TaskFailure(str(exc)) from None
