"""The executor's side of `engine.tasks.context.TaskContext`: one per task run.

Tasks see only the protocol; this class answers it from the parts of the execution
(`RunServices`). It is created for every task run, so it stays thin: a property or a
method here is one hop to the part that does the work.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from engine.core.config import RoostConfig, RoostHome
from engine.core.durations import DurationError, parse_duration
from engine.core.errors import TaskFailure
from engine.core.events import Event, MetricRecorded, OutputFileCaptured
from engine.core.flow_info import FlowInfo
from engine.core.records import TaskRun, utcnow
from engine.core.states import State
from engine.core.template_text import NEEDS_RENDERING, literal_copy
from engine.core.truth import is_truthy
from engine.core.yaml_source import YamlMap
from engine.execution.child_executions import ChildExecutions
from engine.execution.flow_versions import FlowVersions
from engine.execution.replay_copier import ReplayCopier
from engine.execution.run_control import RunControl
from engine.execution.run_state import RunState
from engine.execution.runtime import RunOptions, Runtime
from engine.execution.scope import Scope, child_scope
from engine.execution.tree_walker import TreeWalker
from engine.execution.trigger_toggles import StoredTriggerSwitch
from engine.execution.variables import RunVariables
from engine.execution.workdir_hooks import WorkdirHooks
from engine.store.history_queries import HistoryQueries
from engine.store.kv_store import KvStore
from engine.store.namespace_files import namespace_dir
from engine.store.storage import InternalStorage, StorageError
from engine.tasks.base import Task
from engine.tasks.context import ChildGroup
from engine.tasks.history_access import ExecutionControl, ExecutionHistory
from engine.tasks.subflow_port import ChildFlows
from engine.tasks.trigger_switch import TriggerSwitch


class RunServices(Protocol):
    """The parts of one execution a task context reaches (the execution run provides them)."""

    runtime: Runtime
    options: RunOptions
    state: RunState
    versions: FlowVersions
    variables: RunVariables
    walker: TreeWalker
    workdirs: WorkdirHooks
    replay: ReplayCopier | None
    children: ChildExecutions


class RunTaskContext:
    """Handed to `Task.run`; all access to the engine goes through here."""

    def __init__(self, run: RunServices, task: Task, task_run: TaskRun, scope: Scope) -> None:
        self._run = run
        self.task = task
        self.scope = scope
        self.task_run_id = task_run.id
        self.stop = threading.Event()
        self.timed_out = False
        self.extra_variables: dict[str, Any] = {}
        self.rendered: dict[str, Any] = {}
        """Each templated property as it rendered (last render wins): kept on the task run."""
        self.runner: str | None = None
        """Which runner ran it (set_runner): kept on the task run with its end."""

    # --- what the task runs in -------------------------------------------------
    @property
    def task_id(self) -> str:
        return self.task.id

    @property
    def flow(self) -> FlowInfo:
        return self._run.versions.info

    @property
    def execution_id(self) -> str:
        return self._run.state.execution.id

    @property
    def task_run(self) -> TaskRun:
        return self._run.state.task_run(self.task_run_id)

    @property
    def working_dir(self) -> Path | None:
        return self.scope.working_dir

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()

    # --- settings and services ---------------------------------------------------
    @property
    def config(self) -> RoostConfig:
        return self._run.runtime.config

    @property
    def home(self) -> RoostHome:
        return self._run.runtime.home

    @property
    def environ(self) -> Mapping[str, str]:
        return self._run.runtime.environ

    @property
    def storage(self) -> InternalStorage:
        return self._run.runtime.storage

    @property
    def runner_option(self) -> str | None:
        return self._run.options.runner

    def namespace_dir(self, namespace: str) -> Path | None:
        return namespace_dir(namespace, self.flow.path, explicit=self._run.options.namespace_dirs,
                             configured=self._run.runtime.config.namespace_dirs)

    @property
    def kv_store(self) -> KvStore:
        return self._run.runtime.kv_store

    @property
    def trigger_switch(self) -> TriggerSwitch:
        runtime = self._run.runtime
        return runtime.trigger_switch or StoredTriggerSwitch(runtime.history, self._run.versions.current)

    @property
    def history(self) -> ExecutionHistory | None:
        history = self._run.runtime.history
        return HistoryQueries(history, self._run.runtime.storage) if history is not None else None

    @property
    def control(self) -> ExecutionControl:
        return RunControl(self._run, self.task.id)

    @property
    def child_flows(self) -> ChildFlows:
        return self._run.children

    # --- rendering ---------------------------------------------------------------
    def variables(self) -> dict[str, Any]:
        return self._run.variables.for_task(self.task, self.task_run, self.scope, self.extra_variables)

    def render(self, value: Any, prop: str) -> Any:
        """Render a property value (strings inside maps and lists too); errors name the property."""
        if isinstance(value, str):
            if "{{" not in value and "{%" not in value:
                return value
            result = NEEDS_RENDERING
        elif isinstance(value, int | float | bool) or value is None:
            return value
        else:
            result = literal_copy(value)  # a list or map with no template: no variables, no Jinja
        if result is NEEDS_RENDERING:
            variables = self._run.variables
            result = variables.render(value, variables.for_task(self.task, self.task_run, self.scope,
                                                                self.extra_variables), self.task.id, prop)
        self.rendered[prop] = result
        return result

    def render_typed(self, value: Any, prop: str) -> Any:
        """Kestra's renderTyped: a string that is one `{{ expression }}` keeps the expression's type."""
        text = value.strip() if isinstance(value, str) else ""
        inner = text[2:-2]
        if not (text.startswith("{{") and text.endswith("}}") and "{{" not in inner and "}}" not in inner
                and "{%" not in inner):
            return self.render(value, prop)
        from engine.template import TemplateError

        variables = self._run.variables
        try:
            return self._run.runtime.templates.evaluate(
                inner, variables.for_task(self.task, self.task_run, self.scope, self.extra_variables),
                variables.services)
        except TemplateError as exc:
            raise TaskFailure(f"task '{self.task.id}' property '{prop}': {exc.message}") from None

    def render_str(self, value: Any, prop: str) -> str:
        rendered = self.render(value, prop)
        if rendered is None:
            return ""
        if isinstance(rendered, dict | list):
            return json.dumps(rendered, separators=(",", ":"), default=str)
        if isinstance(rendered, bool):
            return "true" if rendered else "false"
        return str(rendered)

    def render_optional_str(self, value: Any, prop: str) -> str | None:
        return None if value is None else self.render_str(value, prop)

    def render_bool(self, value: Any, prop: str) -> bool:
        return is_truthy(self.render(value, prop))

    def render_int(self, value: Any, prop: str) -> int | None:
        rendered = self.render(value, prop)
        if rendered is None or rendered == "":
            return None
        try:
            return int(str(rendered).strip())
        except ValueError:
            raise TaskFailure(f"property '{prop}': '{rendered}' is not an integer") from None

    def render_duration(self, value: Any, prop: str) -> timedelta | None:
        rendered = self.render(value, prop)
        if rendered is None or rendered == "":
            return None
        if isinstance(rendered, timedelta):  # a DURATION input or variable, kept typed
            return rendered
        try:
            return parse_duration(rendered if isinstance(rendered, int | float) else str(rendered))
        except DurationError as exc:
            raise TaskFailure(f"property '{prop}': {exc}") from None

    def render_list(self, value: Any, prop: str) -> list[Any]:
        """A list property; a template that renders to a JSON array string is parsed, as Kestra does."""
        rendered = self.render(value, prop)
        if rendered is None:
            return []
        if isinstance(rendered, str):
            text = rendered.strip()
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise TaskFailure(f"property '{prop}': not a valid JSON list ({exc.msg})") from None
                return list(parsed)
            return [rendered]
        if isinstance(rendered, list | tuple):
            return list(rendered)
        raise TaskFailure(f"property '{prop}' must be a list, got {type(rendered).__name__}")

    def render_map(self, value: Any, prop: str) -> dict[str, Any]:
        rendered = self.render(value, prop)
        if rendered is None:
            return {}
        if isinstance(rendered, str):
            try:
                parsed = json.loads(rendered)
            except json.JSONDecodeError as exc:
                raise TaskFailure(f"property '{prop}': not a JSON object ({exc.msg})") from None
            if not isinstance(parsed, dict):
                raise TaskFailure(f"property '{prop}' must render to a JSON object")
            return parsed
        if isinstance(rendered, dict):
            return dict(rendered)
        raise TaskFailure(f"property '{prop}' must be a map, got {type(rendered).__name__}")

    # --- logging and metrics ---------------------------------------------------
    def log(self, level: str, message: str) -> None:
        self._run.state.log(self.task_run_id, self.task.id, level, message)

    def log_lines(self, level: str, messages: list[str]) -> None:
        self._run.state.log_lines(self.task_run_id, self.task.id, level, messages)

    def info(self, message: str) -> None:
        self.log("INFO", message)

    def warn(self, message: str) -> None:
        self.log("WARN", message)

    def error(self, message: str) -> None:
        self.log("ERROR", message)

    def debug(self, message: str) -> None:
        self.log("DEBUG", message)

    def notice_once(self, key: str, message: str) -> None:
        """A WARN line logged once per execution (e.g. why the Docker runner was not used)."""
        if self._run.state.first_notice(key):
            self.warn(message)

    def metric(self, name: str, kind: str, value: float, tags: dict[str, str] | None = None) -> None:
        entry = {"name": name, "type": kind, "value": value, "tags": tags or {}}
        state = self._run.state
        state.add_metric(self.task_run_id, entry)
        state.bus.publish(MetricRecorded(self.execution_id, self.task_run_id, self.task.id,
                                         name, kind, value, tags or {}, utcnow()))

    def set_runner(self, description: str) -> None:
        """Which runner (and image) ran this task; shown per task in the workbench once it has
        run, so it is written with the run's end (TaskLifecycle) instead of a change of its own."""
        self.runner = description

    # --- files -------------------------------------------------------------------
    def store_output_file(self, name: str, path: Path, *, move: bool = True) -> str:
        """Put a produced file in internal storage; returns its kestra:// URI."""
        flow = self.flow
        uri = self.storage.task_file_uri(flow.namespace, flow.id, self.execution_id,
                                         self.task.id, self.task_run_id, name)
        try:
            size = self.storage.put_file(uri, path, move=move)
        except OSError as exc:
            kept = f" (it stays in {path.parent})" if path.exists() else ""
            raise TaskFailure(f"cannot store output file '{name}': {exc.strerror or exc}{kept}") from None
        self._run.state.bus.publish(OutputFileCaptured(self.execution_id, self.task_run_id, self.task.id,
                                                       name, uri, size))
        return uri

    def create_working_directory(self) -> Path:
        """A new directory under ROOST_HOME/workdirs for this task run (kept per the run's policy)."""
        return self._run.workdirs.create(self.task.id, self.task_run_id)

    def restore_replay_snapshot(self, directory: Path) -> bool:
        """In a replay: fill a new working directory from the original's snapshot (True if done)."""
        replay = self._run.replay
        if replay is None:
            return False
        return replay.restore_snapshot(self.task.id, self.scope.value_path, directory, self.info)

    def publish(self, event: Event) -> None:
        self._run.state.bus.publish(event)

    def storage_path(self, uri: str) -> Path:
        """The local file behind a kestra:// URI of this execution (or an input/trigger file)."""
        try:
            return self._run.variables.services.readable_storage_path(uri)
        except StorageError as exc:
            raise TaskFailure(str(exc)) from None

    def build_task(self, spec: YamlMap, where: str) -> Task:
        """A task built at run time from a map (TemplatedTask's spec), checked as a flow's tasks are."""
        from engine.execution.task_specs import build_task

        flow = self._run.versions.current
        return build_task(spec, where, [*flow.plugin_defaults, *self._run.runtime.config.plugin_defaults])

    # --- children (flowable tasks) -----------------------------------------------
    def run_block(self, tasks: Sequence[Task], errors: Sequence[Task] = (),
                  finally_: Sequence[Task] = (), *, value: str | None = None,
                  working_dir: Path | None = None, iteration: int | None = None) -> State:
        """Run children in sequence; `errors` after a failure, `finally` always; their combined state."""
        scope = child_scope(self.scope, self.task, self.task_run, value=value, working_dir=working_dir,
                            iteration=iteration)
        return self._run.walker.run_block(tasks, errors, finally_, scope)

    def share_outputs(self, outputs: dict[str, Any]) -> None:
        """Outputs this task's children see before it ends (WaitFor's `iterationCount`)."""
        state = self._run.state
        state.record_outputs(self.task.id, self.scope.value_path, outputs)
        state.update_task_run(self.task_run_id, outputs=state.masker.mask_value(outputs))

    def find_template(self, namespace: str, template_id: str) -> tuple[list[Task], list[Task]] | None:
        """A deprecated Kestra template's (tasks, errors) from a file beside the flow; None: none there."""
        # Imported here: only flows with a Template task need it.
        from engine.flow.kestra_templates import find_template

        return find_template(self.flow.path, namespace, template_id)

    def run_concurrently(self, groups: Sequence[ChildGroup[Task]], limit: int) -> State:
        """Run groups side by side (at most `limit` at once, 0 = all); each group in sequence."""
        return self._run.walker.run_groups(self.scope, self.task, self.task_run, groups, limit)

    def wait_for_resume(self, timeout: timedelta | None, *, resume_on_timeout: bool = True) -> bool:
        """Pause the execution until resumed; True when resumed, False when the delay ran out."""
        return self._run.state.pause_for_resume(self.task_run_id, self.task.id, timeout,
                                                resume_on_timeout)

    def resume_inputs(self, declared: list[Any]) -> dict[str, Any]:
        """The resume's values for `onResume`, typed as flow inputs are (engine.execution.resume_inputs)."""
        from engine.execution.resume_inputs import typed_resume_inputs

        return typed_resume_inputs(self, declared, self._run.state.resume_inputs)

