"""Where a python script task's packages go: an isolated env on the host, or the container.

Why a module of its own: the answer depends both on the runner the task got (selection.py
picks it) and on Kestra's python properties (`dependencies`, `pythonVersion`,
`dependencyCacheEnabled`, `packageManager`). On the process runner the task runs in a
virtualenv from engine/runners/python_env.py, never in the user's interpreter (unless
roost.toml says `[python] isolate = false`); in a container the dependencies are installed
by a command before the script, with uv when the image has it, else pip.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.core.errors import TaskFailure
from engine.runners.backend import RunnerBackend
from engine.runners.python_env import (
    EnvBuilder,
    EnvError,
    EnvSpec,
    local_interpreter,
    normalise_requirements,
    requested_interpreter,
)
from engine.tasks.context import TaskContext

#: A named volume keeps the container's uv and pip caches across runs (dependencyCacheEnabled).
CONTAINER_CACHE_VOLUME = "roost-python-cache"
CONTAINER_CACHE_DIR = "/var/cache/roost-python"
MANAGERS = ("UV", "PIP")
#: Kestra's python tasks set these (Script.java): no root warning, no version check.
PIP_QUIET_ENV = {"PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@dataclass
class ScriptSetup:
    """What a task's runtime adds to its job: env, lines before the commands, mounts, cleanup."""

    env: dict[str, str] = field(default_factory=dict)
    before: list[str] = field(default_factory=list)
    path_prefix: str | None = None
    volumes: tuple[str, ...] = ()
    cleanup: Callable[[], None] | None = None


class PythonEnvAsk(Protocol):
    """The python properties of a script task (raw YAML values)."""

    dependencies: Any
    python_version: Any
    dependency_cache_enabled: Any
    package_manager: Any


def python_setup(ctx: TaskContext[Any], task: PythonEnvAsk, backend: RunnerBackend,
                 search_path: str) -> ScriptSetup:
    """The setup for `task` on `backend`; `search_path` is the PATH the task's process gets."""
    packages = [] if task.dependencies is None else [
        _text(p) for p in ctx.render_list(task.dependencies, "dependencies") if _text(p).strip()]
    manager = (ctx.render_optional_str(task.package_manager, "packageManager") or "UV").upper()
    if manager not in MANAGERS:
        raise TaskFailure(f"property 'packageManager': '{manager}' is not one of UV, PIP")
    cached = True if task.dependency_cache_enabled is None else ctx.render_bool(
        task.dependency_cache_enabled, "dependencyCacheEnabled")
    if getattr(backend, "name", "") != "process":
        return container_setup(packages, manager, cached)
    if not ctx.config.python_isolate:
        return _user_python_setup(ctx, packages)
    version = ctx.render_optional_str(task.python_version, "pythonVersion")
    builder = EnvBuilder(ctx.home.cache / "python", ctx.environ, ctx.stop, ctx.task_run_id, ctx.log)
    try:
        python = requested_interpreter(version) if version else local_interpreter(search_path, ctx.environ)
        if packages:
            env = builder.dependency_env(EnvSpec(python, normalise_requirements(packages), manager),
                                         cached=cached)
        else:
            env = builder.flow_env(ctx.flow.namespace, ctx.flow.id, python)
    except EnvError as exc:
        raise TaskFailure(str(exc)) from None
    return ScriptSetup(env={**PIP_QUIET_ENV, "VIRTUAL_ENV": str(env.root)}, path_prefix=str(env.bin),
                       cleanup=env.discard)


def container_setup(packages: list[str], manager: str, cached: bool) -> ScriptSetup:
    """One shell line installing `packages` in the container, and the cache volume when enabled."""
    env = dict(PIP_QUIET_ENV)
    if not packages:
        return ScriptSetup(env=env)
    volumes: tuple[str, ...] = ()
    if cached:
        volumes = (f"{CONTAINER_CACHE_VOLUME}:{CONTAINER_CACHE_DIR}:rw",)
        env.update(UV_CACHE_DIR=f"{CONTAINER_CACHE_DIR}/uv", PIP_CACHE_DIR=f"{CONTAINER_CACHE_DIR}/pip")
    else:
        env.update(UV_NO_CACHE="1", PIP_NO_CACHE_DIR="1")
    return ScriptSetup(env=env, before=[container_install_line(packages, manager)], volumes=volumes)


def container_install_line(packages: list[str], manager: str) -> str:
    """uv when the image has it (and UV is asked), else pip; a failed install stops the script."""
    quoted = " ".join(shlex.quote(p) for p in packages)
    pip = f"python -m pip install {quoted} 2>&1"
    install = pip if manager == "PIP" else (
        f"if command -v uv >/dev/null 2>&1; then uv pip install --system {quoted} 2>&1; else {pip}; fi")
    failed = shlex.quote(f"python dependencies could not be installed: {' '.join(packages)}")
    return f"{install} || {{ status=$?; echo {failed} >&2; exit $status; }}"


def _user_python_setup(ctx: TaskContext[Any], packages: list[str]) -> ScriptSetup:
    """Isolation off: the python on PATH runs the task, and pip installs into it (Roost before)."""
    if not packages:
        return ScriptSetup()
    ctx.notice_once("python-isolate-off",
                    "roost.toml sets [python] isolate = false: python dependencies are "
                    "pip-installed into the python on PATH")
    quoted = " ".join(shlex.quote(p) for p in packages)
    return ScriptSetup(before=[f"python -m pip install --quiet {quoted}"])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
