"""Container runs for script tasks: Kestra's default runner, or asked for (selection.py chooses).

A run: create a labelled container of the image with the working directory bind-mounted at
the same absolute path as its workdir, attach to its output before starting it (nothing is
missed), stream stdout and stderr line by line to the task as they come, wait for the exit
code, and always remove the container. Cancel and timeout (`ctx.stop`) kill it at once.
"""

from __future__ import annotations

import codecs
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import requests
from docker import errors as docker_errors

from engine.core.errors import TaskFailure
from engine.runners.backend import ContainerRequest, ProcessBackend, RunnerBackend, ScriptJob
from engine.runners.context import RunnerContext
from engine.runners.docker_engine import (
    ENGINES,
    LABEL_EXECUTION,
    LABEL_TASK,
    LABEL_TASK_RUN,
    DockerEngine,
    DockerEngines,
    EngineUnreachable,
    ImageUnavailable,
    engine_url,
)
from engine.runners.docker_options import ContainerSettings, container_settings
from engine.runners.docker_ownership import has_foreign_files, ownership_target, restore_ownership
from engine.runners.line_splitter import LinesHandler, one_by_one
from engine.runners.process import ProcessResult

MAX_LINE_BYTES = 1024 * 1024
KILL_GRACE_SECONDS = 10.0
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


class LineSplitter:
    """Bytes of one stream in, complete text lines out; a partial line waits for its end."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._pending + self._decoder.decode(data)
        *lines, self._pending = text.split("\n")
        if len(self._pending) > MAX_LINE_BYTES:  # a runaway line without newline: emit what we have
            lines.append(self._pending)
            self._pending = ""
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def flush(self) -> list[str]:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        if not rest:
            return []
        return [rest[:-1] if rest.endswith("\r") else rest]


def pump_lines(frames: Iterable[tuple[bytes | None, bytes | None]],
               on_line: Callable[[str, str], None], on_lines: LinesHandler | None = None) -> None:
    """Deliver demultiplexed (stdout, stderr) chunks to on_line as lines, each stream apart
    (to ``on_lines`` one list per chunk, when given)."""
    deliver = on_lines or one_by_one(on_line)
    splitters = {"stdout": LineSplitter(), "stderr": LineSplitter()}
    try:
        for stdout, stderr in frames:
            for stream, chunk in (("stdout", stdout), ("stderr", stderr)):
                if chunk:
                    lines = splitters[stream].feed(chunk)
                    if lines:
                        deliver(stream, lines)
    finally:
        for stream, splitter in splitters.items():
            rest = splitter.flush()
            if rest:
                deliver(stream, rest)


def container_environment(job: ScriptJob, settings: ContainerSettings) -> dict[str, str]:
    """The task's env, the runner's env, and what the process runner also sets."""
    env = dict(settings.env)
    env.update(job.env)
    env["WORKING_DIR"] = str(job.cwd)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def container_name(task_id: str) -> str:
    return f"roost-{_NAME_UNSAFE.sub('-', task_id).strip('-.')[:40] or 'task'}-{uuid.uuid4().hex[:8]}"


class DockerBackend:
    """Runs a script job in a container of `settings.image` on `engine`."""

    name = "docker"

    def __init__(self, engine: DockerEngine, settings: ContainerSettings,
                 engines: DockerEngines = ENGINES) -> None:
        self.engine = engine
        self.settings = settings
        self.engines = engines

    def run(self, ctx: RunnerContext, job: ScriptJob, on_line: Callable[[str, str], None],
            on_lines: LinesHandler | None = None) -> ProcessResult:
        ctx.set_runner(f"docker {self.settings.image}")
        # Containers are the default now (Kestra 1.x): a headless run's log says so, per task run.
        ctx.info(f"running in container {self.settings.image}")
        labels = {**self.engine.owner_labels(), LABEL_EXECUTION: ctx.execution_id,
                  LABEL_TASK_RUN: ctx.task_run_id, LABEL_TASK: ctx.task_id}
        try:
            container_id = self._create(ctx, job, labels)
            try:
                result = self._attach_start_wait(ctx, container_id, on_line, on_lines)
            finally:
                self._remove(container_id)
                self._give_files_back(ctx, job.cwd, labels)
            if result.exit_code == 127 and not result.stopped:
                ctx.warn(f"exit code 127: a command was not found in image {self.settings.image}")
            return result
        except requests.exceptions.ConnectionError as exc:
            self.engines.forget(self.engine.url, str(exc))
            raise TaskFailure(f"lost the Docker engine at {self.engine.url}: {_explain(exc)}") from None
        except docker_errors.APIError as exc:
            raise TaskFailure(f"the Docker engine at {self.engine.url} answered: {_explain(exc)}") from None

    def _create(self, ctx: RunnerContext, job: ScriptJob, labels: dict[str, str]) -> str:
        api = self.engine.api
        workdir = os.path.abspath(job.cwd)
        settings = self.settings
        host_config = api.create_host_config(binds=[f"{workdir}:{workdir}:rw", *settings.volumes, *job.volumes],
                                             **settings.host_config_kwargs())
        try:
            created = api.create_container(
                settings.image, command=list(job.args), entrypoint=settings.entrypoint,
                working_dir=workdir, environment=container_environment(job, settings),
                user=settings.user or "", labels=labels, host_config=host_config,
                name=container_name(ctx.task_id), detach=True, stdin_open=False, tty=False)
        except docker_errors.ImageNotFound:
            self.engine.forget_image(settings.image)
            raise TaskFailure(f"image {settings.image} not found on the Docker engine "
                              f"(removed while the task started?)") from None
        except docker_errors.APIError as exc:
            raise TaskFailure(f"cannot create a container of {settings.image}: {_explain(exc)}") from None
        return str(created["Id"])

    def _attach_start_wait(self, ctx: RunnerContext, container_id: str,
                           on_line: Callable[[str, str], None],
                           on_lines: LinesHandler | None = None) -> ProcessResult:
        api = self.engine.api
        frames = api.attach(container_id, stdout=True, stderr=True, stream=True, logs=True, demux=True)
        failures: list[BaseException] = []

        def read() -> None:
            try:
                pump_lines(frames, on_line, on_lines)
            except BaseException as exc:  # handed to the task's thread below
                failures.append(exc)

        reader = threading.Thread(target=read, name=f"docker-logs {container_id[:12]}", daemon=True)
        try:
            api.start(container_id)
        except docker_errors.APIError as exc:
            raise TaskFailure(f"the container of {self.settings.image} did not start: {_explain(exc)}") from None
        reader.start()
        stopped = self._follow(ctx, container_id, reader)
        exit_code = self._exit_code(ctx, container_id)
        reader.join(KILL_GRACE_SECONDS)
        if failures and not isinstance(failures[0], OSError | docker_errors.DockerException):
            raise failures[0]
        return ProcessResult(exit_code=exit_code, stopped=stopped or ctx.stop.is_set())

    def _follow(self, ctx: RunnerContext, container_id: str, reader: threading.Thread) -> bool:
        """Wait for the output to end; kill the container when the task is stopped. True if killed."""
        while True:
            reader.join(0.05)
            if not reader.is_alive():
                return False
            if ctx.stop.is_set():
                self._kill(container_id)
                reader.join(KILL_GRACE_SECONDS)
                return True

    def _exit_code(self, ctx: RunnerContext, container_id: str) -> int:
        """The exit code, waiting in short slices so that a stop still kills the container."""
        while True:
            try:
                result = self.engine.api.wait(container_id, timeout=2)
                return int(result.get("StatusCode", -1))
            except requests.exceptions.ReadTimeout:
                pass
            except requests.exceptions.ConnectionError as exc:
                if "timed out" not in str(exc).lower():
                    raise
            if ctx.stop.is_set():
                self._kill(container_id)

    def _kill(self, container_id: str) -> None:
        try:
            self.engine.api.kill(container_id)
        except docker_errors.APIError:
            pass  # already exited: nothing to kill

    def _remove(self, container_id: str) -> None:
        try:
            self.engine.api.remove_container(container_id, force=True, v=True)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise

    def _give_files_back(self, ctx: RunnerContext, directory: Path, labels: dict[str, str]) -> None:
        target = ownership_target()
        if target is None or not has_foreign_files(Path(directory), *target):
            return
        error = restore_ownership(self.engine, self.settings.image, Path(directory), *target, labels)
        if error is not None:
            ctx.warn(f"files the container wrote in {directory} stay owned by another user: {error}")


def _explain(exc: BaseException) -> str:
    if isinstance(exc, docker_errors.APIError):
        return str(exc.explanation or exc).strip()
    return str(exc).strip()


def _fallback_notice(request: ContainerRequest, reason: str) -> str:
    """Why the task runs as a local process instead; an implicit ask says how to choose that for good."""
    if request.by_default:
        return (f"script tasks without a taskRunner run in a container by default (Kestra's Docker task "
                f"runner, image {request.image}) but {reason}; running with the process runner on this "
                "machine instead (ROOST_RUNNER=process or roost.toml [runner] default = \"process\" "
                "skips this check)")
    return (f"task asks for a container ({request.image}) but {reason}; "
            "running it with the process runner on this machine instead")


def docker_backend_for(ctx: RunnerContext, request: ContainerRequest, *, required: bool,
                       engines: DockerEngines = ENGINES) -> RunnerBackend:
    """The Docker runner when usable; otherwise the process runner with one notice (auto) or an error."""
    settings = container_settings(request.image, request.options)
    url = engine_url(settings.host, ctx.config.docker_host, ctx.environ)
    try:
        engine = engines.connect(url, ctx.environ)
    except EngineUnreachable as exc:
        if required:
            raise TaskFailure(f"runner docker: cannot run image {request.image}: {exc}") from None
        ctx.notice_once("docker-fallback", _fallback_notice(request, str(exc)))
        return ProcessBackend()
    try:
        engine.ensure_image(settings.image, settings.pull_policy, auth=settings.auth, stop=ctx.stop,
                            log=ctx.info)
    except ImageUnavailable as exc:
        if ctx.stop.is_set():
            raise TaskFailure(f"stopped while pulling image {settings.image}") from None
        if required:
            raise TaskFailure(str(exc)) from None
        ctx.notice_once(f"docker-image:{settings.image}", _fallback_notice(request, str(exc)))
        return ProcessBackend()
    except (requests.exceptions.ConnectionError, docker_errors.DockerException) as exc:
        engines.forget(url, str(exc))
        raise TaskFailure(f"lost the Docker engine at {url}: {_explain(exc)}") from None
    for option in settings.ignored:
        ctx.notice_once(f"docker-option:{option}",
                        f"Docker option '{option}' is not supported by Roost and has no effect")
    return DockerBackend(engine, settings, engines)
