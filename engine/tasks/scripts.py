"""Kestra's script tasks: python and shell `Script` and `Commands`.

Each run: pick the directory (the WorkingDirectory's, or a fresh one), copy
namespace files, write inputFiles, render the commands, run them on a runner
while streaming lines (protocol lines `::{...}::` become outputs, metrics and
logs), then capture outputFiles. A non-zero exit fails the task, outputs kept.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.runners.backend import ScriptJob
from engine.runners.protocol import parse_protocol_line
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
from engine.tasks.registry import register

_STORAGE_URI = re.compile(r"kestra:///[^\s'\"`;|&<>()]+")
LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}


@dataclass(kw_only=True, eq=False)
class ScriptTask(Task):
    """What every script task shares (Kestra's AbstractExecScript)."""

    DEFAULT_IMAGE: ClassVar[str] = "ubuntu"

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
    target_os: Any = prop(kind=Kind.STRING)
    runner: Any = prop(kind=Kind.STRING, deprecated="is deprecated in Kestra; use taskRunner")

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        raise NotImplementedError

    def interpreter_args(self, ctx: TaskContext[Task]) -> list[str]:
        if self.interpreter is None:
            return ["/bin/sh", "-c"]
        return [_text(a) for a in ctx.render_list(self.interpreter, "interpreter")]

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
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
        try:
            lines = self.commands_text(ctx, directory)
            script = self._shell_script(ctx, lines, directory)
            outputs = self._execute(ctx, directory, script)
        finally:
            script_file_path(directory, ctx.task_run_id).unlink(missing_ok=True)
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
        wanted = self.output_directory is True or any(
            "outputDir" in str(v) for v in (getattr(self, "script", None), getattr(self, "commands", None),
                                             self.before_commands) if v is not None)
        if not wanted:
            return None
        output_dir = directory / f"outputs-{ctx.task_run_id[:8]}"
        output_dir.mkdir(exist_ok=True)
        return output_dir

    def _shell_script(self, ctx: TaskContext[Task], lines: list[str], directory: Path) -> str:
        before = [] if self.before_commands is None else [
            _text(c) for c in ctx.render_list(self.before_commands, "beforeCommands")]
        parts = ([("set -e")] if ctx.render_bool(self.fail_fast, "failFast") else []) + before + lines
        text = "\n".join(parts)
        return _localise_storage_uris(ctx, text, directory)

    def _execute(self, ctx: TaskContext[Task], directory: Path, script: str) -> dict[str, Any]:
        env = ctx.render_map(self.env, "env") if self.env is not None else {}
        job = ScriptJob(
            args=[*self.interpreter_args(ctx), script],
            cwd=directory,
            env={str(k): _text(v) for k, v in env.items()},
            marker=ctx.task_run_id,
            default_image=self.DEFAULT_IMAGE,
        )
        backend = select_runner(ctx, self)
        collector = _OutputCollector(ctx)
        result = backend.run(ctx, job, collector.on_line)
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


class _OutputCollector:
    """Turns streamed lines into log events, outputs (`vars`) and metrics."""

    def __init__(self, ctx: TaskContext[Task]) -> None:
        self.ctx = ctx
        self.vars: dict[str, Any] = {}
        self.stdout_lines = 0
        self.stderr_lines = 0
        self._lock = threading.Lock()

    def on_line(self, stream: str, text: str) -> None:
        message = parse_protocol_line(text)
        if message is None:
            with self._lock:
                if stream == "stderr":
                    self.stderr_lines += 1
                else:
                    self.stdout_lines += 1
            self.ctx.log("ERROR" if stream == "stderr" else "INFO", text)
            return
        if message.warning:
            self.ctx.warn(message.warning)
        if message.outputs:
            with self._lock:
                self.vars.update(message.outputs)
        for metric in message.metrics:
            self.ctx.metric(metric.name, metric.type, metric.value, dict(metric.tags))
        for level, log_message in message.logs:
            level = level.upper().replace("WARNING", "WARN")
            self.ctx.log(level if level in LEVELS else "INFO", log_message)


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


def python_command() -> str:
    """`python` when the PATH has it (Kestra's images do), else this interpreter's sibling python3."""
    if shutil.which("python"):
        return "python"
    return shutil.which("python3") or sys.executable


@register
@dataclass(kw_only=True, eq=False)
class PythonCommands(ScriptTask):
    """Commands for a Python project (`python main.py`...), with PYTHONUNBUFFERED set."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.python.Commands",)
    DEFAULT_IMAGE: ClassVar[str] = "python:3.11-slim"

    commands: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    dependencies: Any = prop(kind=Kind.LIST_OR_STRING)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        return _with_dependencies(ctx, self.dependencies,
                                  [_text(c) for c in ctx.render_list(self.commands, "commands")])


@register
@dataclass(kw_only=True, eq=False)
class PythonScript(ScriptTask):
    """An inline Python script, written to a file in the working directory and run with python."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.scripts.python.Script",)
    DEFAULT_IMAGE: ClassVar[str] = "python:3.11-slim"

    script: Any = prop(kind=Kind.STRING, required=True)
    dependencies: Any = prop(kind=Kind.LIST_OR_STRING)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        source = ctx.render_str(self.script, "script")
        path = script_file_path(directory, ctx.task_run_id)
        path.write_text(source, encoding="utf-8")
        return _with_dependencies(ctx, self.dependencies, [f"python {path.name}"])


def _with_dependencies(ctx: TaskContext[Task], raw: Any, commands: list[str]) -> list[str]:
    if raw is None:
        return commands
    packages = [_text(p) for p in ctx.render_list(raw, "dependencies")]
    if not packages:
        return commands
    quoted = " ".join("'" + p.replace("'", "'\\''") + "'" for p in packages)
    return [f"python -m pip install --quiet {quoted}", *commands]


def iter_script_types() -> Iterator[type[ScriptTask]]:
    yield from (ShellCommands, ShellScript, PythonCommands, PythonScript)


__all__ = ["ScriptTask", "new_id"]
