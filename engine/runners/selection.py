"""Which runner runs a script task: the process runner, or a container when the flow asks.

A flow asks for a container with `taskRunner: {type: ...docker.Docker}`, the
deprecated `docker: {image}` block, or `runner: DOCKER`. `--runner` and
roost.toml decide what happens then: `process` ignores the ask, `docker`
requires an engine, `auto` uses one when reachable and otherwise falls back to
the process runner with one notice per execution saying why.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from engine.core.errors import TaskFailure
from engine.runners.backend import ContainerRequest, ProcessBackend, RunnerBackend, ScriptJob
from engine.runners.context import RunnerContext

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


class ContainerAsk(Protocol):
    """The properties of a script task that ask for a container (their raw YAML values)."""

    DEFAULT_IMAGE: ClassVar[str]
    task_runner: Any
    docker: Any
    container_image: Any
    runner: Any


def container_request(ctx: RunnerContext, task: ContainerAsk) -> ContainerRequest | None:
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


def select_runner(ctx: RunnerContext, task: ContainerAsk) -> RunnerBackend:
    request = container_request(ctx, task)
    choice = (ctx.runner_option or ctx.config.runner or "auto").lower()
    if request is None or choice == "process":
        return ProcessBackend()
    from engine.runners.docker_backend import docker_backend_for

    return docker_backend_for(ctx, request, required=(choice == "docker"))


__all__ = ["ContainerAsk", "ContainerRequest", "ProcessBackend", "RunnerBackend", "ScriptJob",
           "container_request", "select_runner"]
