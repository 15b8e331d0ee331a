"""Which runner runs a script task: the process runner, or a container when the flow asks.

A flow asks for a container with `taskRunner: {type: ...docker.Docker}`, the
deprecated `docker: {image}` block, or `runner: DOCKER`. `--runner` and
roost.toml decide what happens then: `process` ignores the ask, `docker`
requires an engine, `auto` uses one when reachable and otherwise falls back to
the process runner with one notice per execution saying why.
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
from engine.runners.process import ProcessResult, ProcessRunner, ProcessSpec, ProcessStartError

if TYPE_CHECKING:
    from engine.execution.task_context import TaskContext

DOCKER_RUNNER_TYPES = {
    "io.kestra.plugin.scripts.runner.docker.Docker",
    "io.kestra.plugin.scripts.runner.docker.DockerTaskRunner",
    "io.kestra.core.models.script.types.DockerTaskRunner",
}
PROCESS_RUNNER_TYPES = {
    "io.kestra.plugin.core.runner.Process",
    "io.kestra.plugin.scripts.runner.Process",
    "io.kestra.core.models.script.types.ProcessTaskRunner",
}


@dataclass(frozen=True)
class ScriptJob:
    """A command line to run in a directory, whatever the runner."""

    args: list[str]
    cwd: Path
    env: dict[str, str]
    marker: str
    default_image: str = "ubuntu"


@dataclass(frozen=True)
class ContainerRequest:
    """What the flow asked of a container: image and the Docker runner's options."""

    image: str
    options: dict[str, Any] = field(default_factory=dict)


class RunnerBackend(Protocol):
    name: str

    def run(self, ctx: TaskContext, job: ScriptJob, on_line: Callable[[str, str], None]) -> ProcessResult:
        ...


@functools.lru_cache(maxsize=16)
def _python_shim(search_path: str, cache_dir: Path) -> str | None:
    """A folder with `python` -> python3 when the task's PATH only has python3 (Kestra's images have both).

    Cached per PATH: looking the interpreters up costs a stat per PATH entry, per task otherwise.
    """
    if shutil.which("python", path=search_path):
        return None
    python3 = shutil.which("python3", path=search_path) or sys.executable
    folder = cache_dir / "bin"
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

    def run(self, ctx: TaskContext, job: ScriptJob, on_line: Callable[[str, str], None]) -> ProcessResult:
        env = dict(ctx.runtime.environ)
        env.update(job.env)
        env["WORKING_DIR"] = str(job.cwd)
        env["PYTHONUNBUFFERED"] = "1"
        shim = _python_shim(env.get("PATH", os.defpath), ctx.runtime.home.cache)
        if shim:
            env["PATH"] = shim + os.pathsep + env.get("PATH", "")
        ctx.set_runner("process")
        try:
            return ProcessRunner().run(ProcessSpec(args=job.args, cwd=job.cwd, env=env, marker=job.marker),
                                       on_line, ctx.stop)
        except ProcessStartError as exc:
            raise TaskFailure(str(exc)) from None


def container_request(ctx: TaskContext, task: Any) -> ContainerRequest | None:
    """The container the task asks for, or None when it asks for a process (or nothing)."""
    runner_config = ctx.render_map(task.task_runner, "taskRunner") if task.task_runner is not None else None
    docker_block = ctx.render_map(task.docker, "docker") if task.docker is not None else None
    image = ctx.render_optional_str(task.container_image, "containerImage")
    if runner_config is not None:
        runner_type = str(runner_config.get("type", ""))
        if runner_type in PROCESS_RUNNER_TYPES:
            return None
        if runner_type not in DOCKER_RUNNER_TYPES:
            raise TaskFailure(f"property 'taskRunner': unknown type '{runner_type}'; Roost runs "
                              "io.kestra.plugin.scripts.runner.docker.Docker and io.kestra.plugin.core.runner.Process")
        options = {k: v for k, v in runner_config.items() if k != "type"}
        return ContainerRequest(image or str((docker_block or {}).get("image") or task.DEFAULT_IMAGE), options)
    runner_name = ctx.render_optional_str(task.runner, "runner")
    if runner_name is not None and runner_name.upper() == "PROCESS":
        return None
    if docker_block is not None:
        options = {k: v for k, v in docker_block.items() if k != "image"}
        return ContainerRequest(image or str(docker_block.get("image") or task.DEFAULT_IMAGE), options)
    if runner_name is not None and runner_name.upper() == "DOCKER":
        return ContainerRequest(image or task.DEFAULT_IMAGE, {})
    return None


def select_runner(ctx: TaskContext, task: Any) -> RunnerBackend:
    request = container_request(ctx, task)
    choice = (ctx.options.runner or ctx.runtime.config.runner or "auto").lower()
    if request is None or choice == "process":
        return ProcessBackend()
    from engine.runners.docker_backend import docker_backend_for

    return docker_backend_for(ctx, request, required=(choice == "docker"))
