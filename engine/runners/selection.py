"""Which runner runs a script task: the process runner, or a container.

As in Kestra 1.x, a script task that names no runner gets the default task runner, Docker,
with its `containerImage` (or its family's default image). A flow asks explicitly with
`taskRunner: {type: ...docker.Docker}`, the deprecated `docker: {image}` block, or
`runner: DOCKER`, and asks for a local process with `taskRunner: {type: ...runner.Process}`
or `runner: PROCESS`. The run's choice decides what happens then (`--runner`, else roost.toml
`[runner] default`, else the ROOST_RUNNER environment variable, else auto): `process` ignores
container asks, `docker` requires an engine and the image, `auto` uses them when the engine
answers and the image is there or can be pulled, and otherwise falls back to the process
runner with one notice per execution saying why.
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


RUNNER_CHOICES = ("auto", "process", "docker")
RUNNER_ENV = "ROOST_RUNNER"


def runner_choice(ctx: RunnerContext) -> str:
    """auto, process or docker: `--runner`, else roost.toml, else $ROOST_RUNNER, else auto.

    ROOST_RUNNER comes last so that a project's roost.toml still decides for everyone who runs
    it, while a machine (or a test session) can pick a default without touching any file.
    """
    for source, value in enumerate((ctx.runner_option, ctx.config.runner, ctx.environ.get(RUNNER_ENV))):
        if value is None or not value.strip():
            continue
        choice = value.strip().lower()
        if choice not in RUNNER_CHOICES:
            raise TaskFailure(f"{_choice_source(ctx, source)} is '{value}'; use one of {', '.join(RUNNER_CHOICES)}")
        return choice
    return "auto"


def _choice_source(ctx: RunnerContext, index: int) -> str:
    """Where a runner choice came from, for its error (named only then: it runs per task)."""
    if index == 0:
        return "--runner"
    if index == 1:
        return f"{ctx.config.path}: [runner] default" if ctx.config.path else "roost.toml [runner] default"
    return f"environment variable {RUNNER_ENV}"


def container_request(ctx: RunnerContext, task: ContainerAsk) -> ContainerRequest | None:
    """The container the task runs in if it may, or None when it asks for the process runner.

    A task that asks for nothing gets Kestra's default, Docker, with its containerImage or
    DEFAULT_IMAGE (`by_default`: the fallback notice then says the ask was implicit).
    """
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
    return ContainerRequest(image or task.DEFAULT_IMAGE, {}, by_default=True)


def select_runner(ctx: RunnerContext, task: ContainerAsk) -> RunnerBackend:
    request = container_request(ctx, task)  # first: a wrong taskRunner type fails whatever the choice
    choice = runner_choice(ctx)
    if request is None or choice == "process":
        return ProcessBackend()
    entrypoint = getattr(task, "DEFAULT_ENTRYPOINT", None)
    if entrypoint is not None and "entryPoint" not in request.options:
        # Tool images (hashicorp/terraform) start their tool; Kestra's CLI tasks empty the entrypoint.
        request = ContainerRequest(request.image, {**request.options, "entryPoint": list(entrypoint)},
                                   request.by_default)
    from engine.runners.docker_backend import docker_backend_for

    return docker_backend_for(ctx, request, required=(choice == "docker"))


__all__ = ["ContainerAsk", "ContainerRequest", "ProcessBackend", "RunnerBackend", "ScriptJob",
           "container_request", "runner_choice", "select_runner"]
