"""Kestra's DbtCLI, TerraformCLI and AnsibleCLI: script tasks built for one tool, on Roost's script machinery.

Each is a shell-commands task (engine/tasks/scripts.py: namespaceFiles, inputFiles, env,
beforeCommands, outputFiles, taskRunner/containerImage) that also knows its tool: the image
Kestra defaults to, the files the tool wants beside the commands (dbt's profiles.yml,
ansible.cfg and a callback plugin), how to read what it prints, and what it leaves behind
(dbt's target/run_results.json). Without a taskRunner they run in that image (Kestra's default
Docker runner), or on the process runner with the tool on PATH when the image cannot be had or
the runner is `process`; a tool that is not there fails with that said, not with a shell's exit 127.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.core.yaml_source import Position
from engine.runners.protocol import parse_protocol_line
from engine.tasks.base import Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.plugins.ansible_callback import (
    CALLBACK_SOURCE,
    DEFAULT_ANSIBLE_CONFIG,
    KESTRA_MODULE_SOURCE,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.scripts import ScriptTask

LineHandler = Callable[[str, str], None]


class PerRun:
    """What a task type's line reader learned during one task run, until its run() reads it.

    Kept beside the task, not on it: one task object serves every run of it (ForEach
    iterations run side by side), so the readers are keyed by task run id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Any] = {}

    def put(self, task_run_id: str, item: Any) -> None:
        with self._lock:
            self._items[task_run_id] = item

    def pop(self, task_run_id: str) -> Any:
        with self._lock:
            return self._items.pop(task_run_id, None)


_READERS = PerRun()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def literal_choice(value: Any, name: str, choices: tuple[str, ...]) -> list[tuple[str | Position, str]]:
    """A load-time check of an enum property written as a literal (a template is checked when run)."""
    if isinstance(value, str) and "{{" not in value and value.upper() not in choices:
        return [(name, f"'{name}' must be one of {', '.join(choices)}, not '{value}'")]
    return []


@dataclass(kw_only=True, eq=False)
class CliToolTask(ScriptTask):
    """Commands for one command-line tool; a missing tool is said by name."""

    TOOL: ClassVar[str] = ""
    DEFAULT_ENTRYPOINT: ClassVar[list[str] | None] = [""]

    commands: Any = prop(kind=Kind.LIST_OR_STRING, required=True)

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        return [_text(c) for c in ctx.render_list(self.commands, "commands")]

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        try:
            return super().run(ctx)
        except TaskFailure as exc:
            raise self.explain_failure(ctx, exc) from None

    def explain_failure(self, ctx: TaskContext[Task], exc: TaskFailure) -> TaskFailure:
        """Exit 127 (command not found) with the tool nowhere on PATH: say so, and what to do."""
        if exc.outputs.get("exitCode") != 127:
            return exc
        env = ctx.render_map(self.env, "env") if self.env is not None else {}
        search = str(env.get("PATH") or ctx.environ.get("PATH") or os.defpath)
        if shutil.which(self.TOOL, path=search) is not None:
            return exc
        return TaskFailure(f"{self.TOOL} is not on PATH; install it or run with the Docker runner "
                           f"(taskRunner: {{type: io.kestra.plugin.scripts.runner.docker.Docker}}, "
                           f"image {self.DEFAULT_IMAGE})", exc.outputs)


# --- dbt ----------------------------------------------------------------------------------------
LOG_FORMATS = ("JSON", "TEXT", "DEBUG", "NONE")
_DBT_LEVELS = {"debug": "DEBUG", "info": "INFO", "warn": "WARN"}
_DROPPED_KEYS = {"category", "code", "invocation_id", "level", "log_version", "msg", "thread", "thread_name",
                 "type", "name", "ts", "pid", "extra"}
_RESULT_STATES = {"error": "FAILED", "fail": "FAILED", "runtime_error": "FAILED", "warn": "WARNING",
                  "skipped": "SKIPPED", "success": "SUCCESS", "pass": "SUCCESS"}


class DbtLogReader:
    """dbt's JSON log lines as Kestra's LogService writes them; a `warn` line makes the task WARNING."""

    def __init__(self, ctx: TaskContext[Task], forward: LineHandler) -> None:
        self.ctx, self.forward = ctx, forward
        self.warned = False

    def on_line(self, stream: str, text: str) -> None:
        if parse_protocol_line(text) is not None or not text.startswith("{"):
            self.forward(stream, text)
            return
        try:
            entry = json.loads(text)
        except ValueError:
            self.forward(stream, text)
            return
        if not isinstance(entry, dict):
            self.forward(stream, text)
            return
        info = entry.get("info") if isinstance(entry.get("info"), dict) else None
        source = info if info is not None else entry
        level = str(source.get("level") or "")
        thread = source.get("thread") if info is not None else source.get("thread_name")
        kind = source.get("name") if info is not None else source.get("type")
        msg = source.get("msg")
        extra = {k: v for k, v in (info or {}).items() if k not in _DROPPED_KEYS}
        data = entry.get("data")
        if isinstance(data, dict) and isinstance(data.get("stats"), dict):
            for name, value in data["stats"].items():
                if isinstance(value, int | float):
                    self.ctx.metric(str(name), "counter", float(value))
        if level == "warn":
            self.warned = True
        message = (f"[Date: {source.get('ts')}] [Thread: {thread}] [Type: {kind}] "
                   f"{str(msg) + ' ' if msg is not None else ''}{extra if extra else ''}")
        self.ctx.log(_DBT_LEVELS.get(level, "ERROR"), message.rstrip())


@register
@dataclass(kw_only=True, eq=False)
class DbtCLI(CliToolTask):
    """dbt commands: profiles.yml written, `--project-dir`/`--log-format` added, run_results.json read."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.dbt.cli.DbtCLI",)
    TOOL: ClassVar[str] = "dbt"
    DEFAULT_IMAGE: ClassVar[str] = "ghcr.io/kestra-io/dbt"
    DEFAULT_ENTRYPOINT: ClassVar[list[str] | None] = []

    profiles: Any = prop(kind=Kind.STRING)
    project_dir: Any = prop(kind=Kind.STRING)
    parse_run_results: Any = prop(True, kind=Kind.BOOL)
    log_format: Any = prop("JSON", kind=Kind.STRING)
    engine: Any = prop("CORE", kind=Kind.STRING)
    store_manifest: Any = prop(kind=Kind.MAP)
    load_manifest: Any = prop(kind=Kind.MAP)

    def validate(self) -> list[tuple[str | Position, str]]:
        return literal_choice(self.log_format, "logFormat", LOG_FORMATS) + \
            literal_choice(self.engine, "engine", ("CORE", "FUSION"))

    def extra_env(self, ctx: TaskContext[Task]) -> dict[str, str]:
        return {"PYTHONUNBUFFERED": "true", "PIP_ROOT_USER_ACTION": "ignore"}

    def line_handler(self, ctx: TaskContext[Task], forward: LineHandler) -> LineHandler:
        reader = DbtLogReader(ctx, forward)
        _READERS.put(ctx.task_run_id, reader)
        return reader.on_line

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        project_dir = ctx.render_optional_str(self.project_dir, "projectDir")
        project = directory / project_dir if project_dir else directory
        ctx.info(f"dbt project working directory: {project}")
        if self.load_manifest is not None:
            self._load_manifest(ctx, project)
        profiles = ctx.render_optional_str(self.profiles, "profiles")
        if profiles:
            target = directory / "profiles.yml"
            if target.exists():
                ctx.info("A 'profiles.yml' file already exists in the task working directory; "
                         "it will be overridden.")
            target.write_text(profiles, encoding="utf-8")
        log_format = ctx.render_str(self.log_format or "JSON", "logFormat").upper()
        if log_format not in LOG_FORMATS:
            raise TaskFailure(f"property 'logFormat' must be one of {', '.join(LOG_FORMATS)}, not '{log_format}'")
        lines = []
        for command in super().commands_text(ctx, directory):
            if command.startswith("dbt"):
                if project_dir and "--project-dir" not in command:
                    command += f" --project-dir {project_dir}"
                if log_format != "NONE" and "--log-format" not in command:
                    command += f" --log-format {log_format.lower()}"
                if "--log-path" not in command:
                    command += " --log-path logs"
            lines.append(command)
        return lines

    # A dbt `warn` line ends the task in WARNING, which takes a TaskResult (Task.run allows it).
    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:  # type: ignore[override]
        try:
            result = super().run(ctx)
        except TaskFailure as exc:
            self._read_results(ctx, exc.outputs)
            raise
        finally:
            reader = _READERS.pop(ctx.task_run_id)
        outputs = result
        self._read_results(ctx, outputs)
        if isinstance(reader, DbtLogReader) and reader.warned:
            return TaskResult(outputs, State.WARNING)
        return outputs

    def _project(self, ctx: TaskContext[Task]) -> Path | None:
        working = ctx.extra_variables.get("workingDir")
        if not working:
            return None
        project_dir = ctx.render_optional_str(self.project_dir, "projectDir")
        return Path(str(working)) / project_dir if project_dir else Path(str(working))

    def _read_results(self, ctx: TaskContext[Task], outputs: dict[str, Any]) -> None:
        """Kestra's parseRunResults: manifest.json and run_results.json kept, one line and metrics per node."""
        project = self._project(ctx)
        if project is None:
            return
        files = outputs.setdefault("outputFiles", {})
        manifest = project / "target" / "manifest.json"
        if not manifest.is_file():
            ctx.warn(f"dbt manifest not found at {manifest} (assets will NOT be emitted)")
        else:
            ctx.info(f"dbt manifest found at {manifest}")
            files["manifest.json"] = ctx.store_output_file("manifest.json", manifest, move=False)
            if self.store_manifest is not None:
                self._store_manifest(ctx, manifest)
        results = project / "target" / "run_results.json"
        if not ctx.render_bool(self.parse_run_results, "parseRunResults") or not results.is_file():
            return
        try:
            parsed = json.loads(results.read_text(encoding="utf-8"))
        except ValueError as exc:
            ctx.warn(f"target/run_results.json is not valid JSON, not parsed: {exc}")
            return
        for node in parsed.get("results") or []:
            self._log_node(ctx, node)
        files["run_results.json"] = ctx.store_output_file("run_results.json", results, move=False)

    @staticmethod
    def _log_node(ctx: TaskContext[Task], node: dict[str, Any]) -> None:
        for key, metric in (("rows_affected", "rows.affected"), ("bytes_processed", "bytes.processed")):
            value = (node.get("adapter_response") or {}).get(key)
            if value is not None:
                try:
                    ctx.metric(metric, "counter", float(value))
                except (TypeError, ValueError):
                    pass
        state = _RESULT_STATES.get(str(node.get("status")), "SUCCESS")
        level = {"FAILED": "ERROR", "WARNING": "WARN"}.get(state, "INFO")
        summary = f"{node.get('unique_id')} => {node.get('status')}"
        if node.get("execution_time") is not None:
            summary += f" in {float(node['execution_time']):.2f}s"
        failures = node.get("failures")
        if isinstance(failures, int) and failures > 0:
            summary += f" ({failures} failure{'s' if failures != 1 else ''})"
        ctx.log(level, summary)
        if node.get("message") and str(node["message"]).strip():
            ctx.log(level, str(node["message"]))

    def _manifest_key(self, ctx: TaskContext[Task], raw: Any, prop_name: str) -> tuple[str, str]:
        spec = ctx.render_map(raw, prop_name)
        if not spec.get("key") or not spec.get("namespace"):
            raise TaskFailure(f"property '{prop_name}' needs a 'key' and a 'namespace'")
        return str(spec["namespace"]), str(spec["key"])

    def _load_manifest(self, ctx: TaskContext[Task], project: Path) -> None:
        namespace, key = self._manifest_key(ctx, self.load_manifest, "loadManifest")
        entry = ctx.kv_store.get(namespace, key)
        value = getattr(entry, "value", None) if entry is not None else None
        if value is None or not str(value).strip():
            ctx.warn("Property `loadManifest` has been used but no manifest has been found in the KV Store.")
            return
        target = project / "target" / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")

    def _store_manifest(self, ctx: TaskContext[Task], manifest: Path) -> None:
        namespace, key = self._manifest_key(ctx, self.store_manifest, "storeManifest")
        ctx.kv_store.put(namespace, key, json.loads(manifest.read_text(encoding="utf-8")))


# --- terraform ----------------------------------------------------------------------------------
@register
@dataclass(kw_only=True, eq=False)
class TerraformCLI(CliToolTask):
    """Terraform commands (`terraform init` in beforeCommands, then plan/apply) with /bin/sh -c."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.terraform.cli.TerraformCLI",)
    TOOL: ClassVar[str] = "terraform"
    DEFAULT_IMAGE: ClassVar[str] = "hashicorp/terraform"


# --- ansible ------------------------------------------------------------------------------------
OUTPUTS_MODES = ("ALL", "EXPLICIT")


class AnsibleOutputs:
    """Merges what the callback plugin prints after each playbook: per-host results and playbooks."""

    def __init__(self, forward: LineHandler, explicit: bool) -> None:
        self.forward, self.explicit = forward, explicit
        self.results: list[Any] = []
        self.declared: dict[str, Any] = {}
        self.playbooks: list[Any] = []

    def on_line(self, stream: str, text: str) -> None:
        message = parse_protocol_line(text)
        payload = message.outputs if message is not None else None
        if not payload or "playbooks" not in payload:
            self.forward(stream, text)
            return
        found = payload.get("outputs")
        if isinstance(found, list):
            self.results.extend(found)
        elif isinstance(found, dict):
            self.declared.update(found)
        if isinstance(payload.get("playbooks"), list):
            self.playbooks.extend(payload["playbooks"])

    def merged(self) -> dict[str, Any]:
        return {"outputs": self.declared if self.explicit else self.results, "playbooks": self.playbooks}


@register
@dataclass(kw_only=True, eq=False)
class AnsibleCLI(CliToolTask):
    """ansible-playbook commands with Roost's callback plugin: per-host results in `outputs.vars`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.ansible.cli.AnsibleCLI",)
    TOOL: ClassVar[str] = "ansible-playbook"
    DEFAULT_IMAGE: ClassVar[str] = "cytopia/ansible:latest-tools"

    ansible_config: Any = prop(kind=Kind.STRING)
    outputs_mode: Any = prop("ALL", kind=Kind.STRING)
    output_log_file: Any = prop(False, kind=Kind.BOOL)
    auto_install_python_requirements: Any = prop(True, kind=Kind.BOOL)
    auto_install_galaxy_requirements: Any = prop(True, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        return literal_choice(self.outputs_mode, "outputsMode", OUTPUTS_MODES)

    def interpreter_args(self, ctx: TaskContext[Task]) -> list[str]:
        return ["/bin/bash", "-c"] if self.interpreter is None else super().interpreter_args(ctx)

    def _mode(self, ctx: TaskContext[Task]) -> str:
        mode = ctx.render_str(self.outputs_mode or "ALL", "outputsMode").upper()
        if mode not in OUTPUTS_MODES:
            raise TaskFailure(f"property 'outputsMode' must be ALL or EXPLICIT, not '{mode}'")
        return mode

    def extra_env(self, ctx: TaskContext[Task]) -> dict[str, str]:
        return {"KESTRA_OUTPUTS_MODE": self._mode(ctx).lower()}

    def line_handler(self, ctx: TaskContext[Task], forward: LineHandler) -> LineHandler:
        collector = AnsibleOutputs(forward, self._mode(ctx) == "EXPLICIT")
        _READERS.put(ctx.task_run_id, collector)
        return collector.on_line

    def commands_text(self, ctx: TaskContext[Task], directory: Path) -> list[str]:
        config = directory / "ansible.cfg"
        if config.exists():
            ctx.warn("Found an existing ansible.cfg file. Ignoring creation of a new ansible.cfg file.")
        else:
            text = DEFAULT_ANSIBLE_CONFIG if self.ansible_config is None else self.ansible_config
            config.write_text(ctx.render_str(text, "ansibleConfig"), encoding="utf-8")
        plugin = directory / "callback_plugins" / "kestra_logger.py"
        plugin.parent.mkdir(exist_ok=True)
        plugin.write_text(CALLBACK_SOURCE, encoding="utf-8")
        module = directory / "library" / "kestra.py"
        module.parent.mkdir(exist_ok=True)
        module.write_text(KESTRA_MODULE_SOURCE, encoding="utf-8")
        auto = []
        if ctx.render_bool(self.auto_install_python_requirements, "autoInstallPythonRequirements"):
            auto.append("[ ! -f requirements.txt ] || pip install --no-cache-dir -r requirements.txt")
        if ctx.render_bool(self.auto_install_galaxy_requirements, "autoInstallGalaxyRequirements"):
            auto.append("[ ! -f requirements.yml ] || ansible-galaxy install -r requirements.yml")
        return auto + super().commands_text(ctx, directory)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        try:
            result = super().run(ctx)
        except TaskFailure as exc:
            self._finish(ctx, exc.outputs)
            raise
        self._finish(ctx, result)
        return result

    def _finish(self, ctx: TaskContext[Task], outputs: dict[str, Any]) -> None:
        collector = _READERS.pop(ctx.task_run_id)
        if isinstance(collector, AnsibleOutputs):
            outputs.setdefault("vars", {}).update(collector.merged())
        if ctx.render_bool(self.output_log_file, "outputLogFile"):
            log = Path(str(ctx.extra_variables.get("workingDir", ""))) / "log"
            if log.is_file():
                outputs.setdefault("outputFiles", {})["log"] = ctx.store_output_file("log", log, move=False)
