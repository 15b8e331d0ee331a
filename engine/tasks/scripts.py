"""Kestra's script tasks: python and shell `Script` and `Commands`.

Each run: pick the directory (the WorkingDirectory's, or a fresh one), copy
namespace files, write inputFiles, render the commands, run them on a runner
while streaming lines (protocol lines `::{...}::` become outputs, metrics and
logs), then capture outputFiles. A non-zero exit fails the task, outputs kept.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.runners.backend import RunnerBackend, ScriptJob
from engine.runners.selection import select_runner
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.file_transfer import (
    capture_output_files,
    render_input_files,
    render_patterns,
    write_input_files,
)
from engine.tasks.namespace_copy import copy_namespace_files
from engine.tasks.properties import Kind, prop
from engine.tasks.python_setup import ScriptSetup, python_setup
from engine.tasks.registry import register
from engine.tasks.script_output import OutputCollector

_STORAGE_URI = re.compile(r"kestra:///[^\s'\"`;|&<>()]+")
TARGET_OS = ("LINUX", "AUTO", "WINDOWS")


@dataclass(kw_only=True, eq=False)
class ScriptTask(Task):
    """What every script task shares (Kestra's AbstractExecScript)."""

    DEFAULT_IMAGE: ClassVar[str] = "ubuntu"
    # Whether commands_text writes script_file_path (removed after the run); the others skip the unlink.
    WRITES_SCRIPT_FILE: ClassVar[bool] = False

    before_commands: Any = prop(kind=Kind.LIST_OR_STRING)
    interpreter: Any = prop(kind=Kind.LIST_OR_STRING)
    env: Any = prop(kind=Kind.MAP)
    fail_fast: Any = prop(True, kind=Kind.BOOL)
    input_files: Any = prop(kind=Kind.MAP_OR_STRING)
    output_files: Any = prop(kind=Kind.LIST_OR_STRING)
    namespace_files: Any = prop(kind=Kind.MAP)
    output_directory: Any = prop(kind=Kind.BOOL)
    warning_on_std_err: Any = prop(kind=Kind.BOOL, dynamic=False,
                                   deprecated="is deprecated in Kestra and has no effect")
    docker: Any = prop(kind=Kind.MAP)
    container_image: Any = prop(kind=Kind.STRING)
    task_runner: Any = prop(kind=Kind.MAP)
    # Kestra names it `targetOS` (AbstractExecScript); `targetOs` was Roost's spelling, still read.
    target_os: Any = prop(kind=Kind.STRING, name="targetOS")
    target_os_alias: Any = prop(kind=Kind.STRING, name="targetOs")
    runner: Any = prop(kind=Kind.STRING, deprecated="is deprecated in Kestra; use taskRunner")

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        raise NotImplementedError

    def interpreter_args(self, ctx: TaskContext[Task]) -> list[str]:
        if self.interpreter is None:
            return ["/bin/sh", "-c"]
        return [_text(a) for a in ctx.render_list(self.interpreter, "interpreter")]

    def extra_env(self, ctx: TaskContext[Task]) -> dict[str, str]:
        """Environment a task type always sets (dbt's PYTHONUNBUFFERED); the `env` property wins."""
        return {}

    def line_handler(self, ctx: TaskContext[Task],
                     forward: Callable[[str, str], None]) -> Callable[[str, str], None]:
        """What reads each (stream, line) of the process; a tool's own log format can wrap `forward`."""
        return forward

    def runtime_setup(self, ctx: TaskContext[Task], backend: RunnerBackend, search_path: str) -> ScriptSetup:
        """What the task's runtime needs on `backend` (python: its env); shell tasks need nothing."""
        return ScriptSetup()

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        self._check_target_os(ctx)
        directory = ctx.working_dir or ctx.create_working_directory()
        copy_namespace_files(ctx, directory, self.namespace_files)
        write_input_files(ctx, directory, render_input_files(ctx, self.input_files, "inputFiles"),
                          "inputFiles")
        output_dir = self._prepare_output_dir(ctx, directory)
        ctx.extra_variables.update({
            "workingDir": str(directory),
            "outputDir": str(output_dir) if output_dir else str(directory),
            "outputFiles": {name: str(directory / name)
                            for name in self._literal_output_names(ctx)},
        })
        user_env = {str(k): _text(v) for k, v in ctx.render_map(self.env, "env").items()} \
            if self.env is not None else {}
        backend = select_runner(ctx, self)
        setup = self.runtime_setup(ctx, backend, user_env.get("PATH") or ctx.environ.get("PATH", os.defpath))
        try:
            lines = self.commands_text(ctx, directory)
            script = self._shell_script(ctx, [*setup.before, *self._before_commands(ctx)], lines, directory)
            outputs = self._execute(ctx, directory, script, backend, self._job_env(ctx, user_env, setup),
                                    setup)
        finally:
            if self.WRITES_SCRIPT_FILE:
                script_file_path(directory, ctx.task_run_id).unlink(missing_ok=True)
            if setup.cleanup is not None:
                setup.cleanup()
        captured = capture_output_files(ctx, directory, render_patterns(ctx, self.output_files, "outputFiles"))
        if output_dir is not None:
            captured.update(capture_output_files(ctx, output_dir, ["**"], base=output_dir))
            shutil.rmtree(output_dir, ignore_errors=True)
        outputs["outputFiles"] = captured
        if outputs["exitCode"] != 0:
            raise TaskFailure(f"Command failed with exit code {outputs['exitCode']}", outputs)
        return outputs

    def _literal_output_names(self, ctx: TaskContext[Task]) -> list[str]:
        if self.output_files is None:
            return []
        names = render_patterns(ctx, self.output_files, "outputFiles")
        return [n for n in names if not any(ch in n for ch in "*?[{") and ":" not in n]

    def _prepare_output_dir(self, ctx: TaskContext[Task], directory: Path) -> Path | None:
        if not self._wants_output_dir():
            return None
        output_dir = directory / f"outputs-{ctx.task_run_id[:8]}"
        output_dir.mkdir(exist_ok=True)
        return output_dir

    def _wants_output_dir(self) -> bool:
        """`outputDirectory: true`, or `outputDir` named in the script or commands; read from the
        YAML values once per task definition (a flow's tasks never change once loaded)."""
        wanted = self.__dict__.get("_output_dir_wanted")
        if wanted is None:
            wanted = self.output_directory is True or any(
                "outputDir" in str(v) for v in (getattr(self, "script", None), getattr(self, "commands", None),
                                                 self.before_commands) if v is not None)
            self.__dict__["_output_dir_wanted"] = wanted
        return bool(wanted)

    def _check_target_os(self, ctx: TaskContext[Task]) -> None:
        """Kestra's targetOS: Roost runs commands on POSIX shells, so WINDOWS cannot be honoured."""
        raw = self.target_os if self.target_os is not None else self.target_os_alias
        if raw is None:
            return
        value = (ctx.render_optional_str(raw, "targetOS") or "AUTO").upper()
        if value not in TARGET_OS:
            raise TaskFailure(f"property 'targetOS': '{value}' is not one of LINUX, WINDOWS, AUTO")
        if value == "WINDOWS":
            raise TaskFailure("property 'targetOS': WINDOWS is not supported: Roost runs commands "
                              "with a POSIX shell; use LINUX or AUTO (or remove targetOS)")

    def _before_commands(self, ctx: TaskContext[Task]) -> list[str]:
        return [] if self.before_commands is None else [
            _text(c) for c in ctx.render_list(self.before_commands, "beforeCommands")]

    def _shell_script(self, ctx: TaskContext[Task], before: list[str], lines: list[str],
                      directory: Path) -> str:
        parts = ([("set -e")] if ctx.render_bool(self.fail_fast, "failFast") else []) + before + lines
        text = "\n".join(parts)
        return _localise_storage_uris(ctx, text, directory)

    def _job_env(self, ctx: TaskContext[Task], user_env: dict[str, str], setup: ScriptSetup) -> dict[str, str]:
        """The task type's env, the runtime's, then the `env` property; an isolated env's bin first on PATH."""
        env = {**self.extra_env(ctx), **setup.env, **user_env}
        if setup.path_prefix is not None:
            env["PATH"] = setup.path_prefix + os.pathsep + (user_env.get("PATH") or ctx.environ.get("PATH", os.defpath))
        return env

    def _execute(self, ctx: TaskContext[Task], directory: Path, script: str, backend: RunnerBackend,
                 env: dict[str, str], setup: ScriptSetup) -> dict[str, Any]:
        job = ScriptJob(
            args=[*self.interpreter_args(ctx), script],
            cwd=directory,
            env=env,
            marker=ctx.task_run_id,
            default_image=self.DEFAULT_IMAGE,
            volumes=setup.volumes,
        )
        collector = OutputCollector(ctx)
        on_line = self.line_handler(ctx, collector.on_line)
        # Unwrapped, a pipe read's lines go to the collector as one batch (one log event).
        result = backend.run(ctx, job, on_line, collector.on_lines if on_line == collector.on_line else None)
        return {
            "exitCode": result.exit_code,
            "vars": collector.vars,
            "stdOutLineCount": collector.stdout_lines,
            "stdErrLineCount": collector.stderr_lines,
        }


def _text(value: Any) -> str:
    """A list item as Kestra reads it into a string: `- true` is the command `true`, not `True`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def script_file_path(directory: Path, task_run_id: str) -> Path:
    """Where an inline script is written; hidden, and removed before outputFiles are captured."""
    return directory / f".roost-script-{task_run_id}.py"


def _localise_storage_uris(ctx: TaskContext[Task], text: str, directory: Path) -> str:
    """kestra:// URIs in commands become paths of local copies in the working directory."""
    def replace(match: re.Match[str]) -> str:
        uri = match.group(0)
        source = ctx.storage_path(uri)
        target = directory / source.name
        if not target.exists():
            shutil.copyfile(source, target)
        return str(target)

    return _STORAGE_URI.sub(replace, text) if "kestra:///" in text else text


@register
@dataclass(kw_only=True, eq=False)
class ShellCommands(ScriptTask):
    """Shell commands, run one after another by the interpreter."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.shell.Commands",)

    commands: Any = prop(kind=Kind.LIST_OR_STRING, required=True)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        return [_text(c) for c in ctx.render_list(self.commands, "commands")]


@register
@dataclass(kw_only=True, eq=False)
class ShellScript(ScriptTask):
    """A multi-line shell script."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.shell.Script",)

    script: Any = prop(kind=Kind.STRING, required=True)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        return [ctx.render_str(self.script, "script")]


@dataclass(kw_only=True, eq=False)
class PythonTask(ScriptTask):
    """Kestra's AbstractPythonExecScript: the properties that say where the packages come from."""

    DEFAULT_IMAGE: ClassVar[str] = "python:3.13-slim"  # Kestra 1.x PythonBasedPlugin.DEFAULT_IMAGE

    dependencies: Any = prop(kind=Kind.LIST_OR_STRING)
    python_version: Any = prop(kind=Kind.STRING)
    dependency_cache_enabled: Any = prop(True, kind=Kind.BOOL)
    package_manager: Any = prop(kind=Kind.STRING)
    # Kestra downloads uv when a worker lacks it; Roost ships uv, so these change nothing.
    uv_auto_install_enabled: Any = prop(kind=Kind.BOOL)
    uv_installer_version: Any = prop(kind=Kind.STRING)
    uv_installer_sha256: Any = prop(kind=Kind.STRING)

    def runtime_setup(self, ctx: TaskContext[Task], backend: RunnerBackend, search_path: str) -> ScriptSetup:
        return python_setup(ctx, self, backend, search_path)


@register
@dataclass(kw_only=True, eq=False)
class PythonCommands(PythonTask):
    """Commands for a Python project (`python main.py`...), with PYTHONUNBUFFERED set."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.python.Commands",)

    commands: Any = prop(kind=Kind.LIST_OR_STRING, required=True)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        return [_text(c) for c in ctx.render_list(self.commands, "commands")]


@register
@dataclass(kw_only=True, eq=False)
class PythonScript(PythonTask):
    """An inline Python script, written to a file in the working directory and run with python."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.python.Script",)
    WRITES_SCRIPT_FILE: ClassVar[bool] = True

    script: Any = prop(kind=Kind.STRING, required=True)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        source = ctx.render_str(self.script, "script")
        path = script_file_path(directory, ctx.task_run_id)
        path.write_text(source, encoding="utf-8")
        return [f"python {path.name}"]


def iter_script_types() -> Iterator[type[ScriptTask]]:
    yield from (ShellCommands, ShellScript, PythonCommands, PythonScript)


__all__ = ["ScriptTask", "new_id"]
