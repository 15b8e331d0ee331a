"""What templates see in one execution: its variables, and the functions they may call.

`RunVariables` builds the execution's variables once (flow, execution, inputs, vars,
envs, outputs) and a task's on top of them, then renders; `RenderServices` gives the
templates secret(), read(), fileSize() and fileExists(), each limited to what this
execution may read: its own storage files and its namespace's folder.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.core.errors import TaskFailure
from engine.core.records import Execution, TaskRun, utcnow
from engine.core.template_text import NEEDS_RENDERING, literal_copy
from engine.execution.flow_outputs import typed_flow_output
from engine.execution.flow_versions import FlowVersions
from engine.execution.runtime import Runtime
from engine.execution.scope import Scope
from engine.flow.model import Flow
from engine.store.storage import StorageError
from engine.tasks.base import Task

LogWriter = Callable[[str | None, str | None, str, str], None]
"""(task run id, task id, level, message), as RunState.log takes them."""


def _template_error(message: str) -> Exception:
    from engine.template import TemplateError

    return TemplateError(message)


class RenderServices:
    """secret(), read(), fileSize(), fileExists() for templates of one execution."""

    def __init__(self, runtime: Runtime, versions: FlowVersions, execution_ids: tuple[str, str | None],
                 namespace_dirs: Mapping[str, Path], parent: tuple[str, str, str] | None = None) -> None:
        self._runtime = runtime
        self._versions = versions
        self._execution_ids = execution_ids          # its own, and the original's for a replay
        self._namespace_dirs = namespace_dirs
        self._parent = parent                        # (namespace, flow id, execution id) of a subflow's caller

    def readable_storage_path(self, uri: str) -> Path:
        """Storage files a template or task may read: this execution's (or its original's), and,
        as Kestra allows, those of the execution its `trigger` names (a subflow's parent)."""
        flow = self._versions.info
        try:
            return self._runtime.storage.open_execution_file(uri, flow.namespace, flow.id, self._execution_ids)
        except StorageError:
            if self._parent is None:
                raise
            namespace, flow_id, execution_id = self._parent
            return self._runtime.storage.open_execution_file(uri, namespace, flow_id, (execution_id,))

    def secret(self, name: str) -> str:
        from engine.store.secrets import SecretError

        try:
            return self._runtime.secrets.get(name)
        except SecretError as exc:
            raise _template_error(str(exc)) from None

    def _path(self, path: str) -> Path:
        own_files = f"kestra:///{self._versions.info.namespace.replace('.', '/')}/_files/"
        if path.startswith(own_files):   # what fileURI() gives: a file of the flow's namespace
            path = path[len(own_files):]
        elif path.startswith("kestra://"):
            try:
                return self.readable_storage_path(path)
            except StorageError as exc:
                raise _template_error(str(exc)) from None
        from engine.store.namespace_files import namespace_file_path

        flow = self._versions.info
        try:
            return namespace_file_path(flow.namespace, flow.path, path, explicit=self._namespace_dirs,
                                       configured=self._runtime.config.namespace_dirs)
        except (OSError, ValueError) as exc:
            raise _template_error(str(exc)) from None

    def read(self, path: str) -> str:
        try:
            return self._path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise _template_error(f"cannot read '{path}': {exc.strerror}") from None

    def file_size(self, path: str) -> int:
        return self._path(path).stat().st_size

    def file_exists(self, path: str) -> bool:
        try:
            return self._path(path).is_file()
        except Exception:
            return False

    def kv(self, key: str, namespace: str | None, error_on_missing: bool) -> Any:
        """Kestra's `kv()`: the typed value of a KV entry, the flow's namespace by default."""
        from engine.store.kv_store import KvError, lookup_value

        try:
            return lookup_value(self._runtime.kv_store, key, namespace, self._versions.info.namespace,
                                error_on_missing)
        except KvError as exc:
            raise _template_error(exc.message) from None

    def error_logs(self, limit: int) -> list[dict[str, Any]]:
        """Kestra's `errorLogs()`: this execution's first ERROR lines as LogEntry maps."""
        history = self._runtime.history
        if history is None:
            return []
        history.flush(5)   # lines are written by a background thread; Kestra also waits for them
        flow = self._versions.info
        errors = (r for r in history.iter_logs(self._execution_ids[0]) if r.level == "ERROR")
        entries = [{"namespace": flow.namespace, "flowId": flow.id, "taskId": record.task_id,
                    "executionId": record.execution_id, "taskRunId": record.task_run_id,
                    "timestamp": record.date, "level": record.level, "message": record.message}
                   for record in itertools.islice(errors, limit)]
        return [{k: v for k, v in entry.items() if v is not None} for entry in entries]  # NON_NULL


class RunVariables:
    """The execution's variables (built once) and each task's, and rendering against them."""

    def __init__(self, runtime: Runtime, flow: Flow, execution: Execution, outputs: dict[str, Any],
                 services: RenderServices, task_states: Callable[[], dict[str, Any]] | None = None) -> None:
        self._runtime = runtime
        self.services = services
        self._task_states = task_states  # `tasks.<id>.state` (RunState.task_states), read per render
        # The real inputs: templates read them; events, history and JSON carry the masked ones.
        self.base = _base_variables(runtime, flow, execution, outputs)

    def set_start_date(self, start: datetime | None) -> None:
        """`execution.startDate` is the execution's first state date (Kestra's State.getStartDate)."""
        if start is not None:
            self.base["execution"] = {**self.base["execution"], "startDate": start}

    def set_flow_variables(self, variables: dict[str, Any]) -> None:
        """A new version of the flow's `variables` (hot reload) for the tasks still to run."""
        self.base["vars"] = variables

    def set_labels(self, labels: dict[str, str]) -> None:
        """The execution's labels after a Labels task, for the tasks still to run (`labels.x`)."""
        self.base["labels"] = label_variables(labels)

    def for_task(self, task: Task, task_run: TaskRun, scope: Scope,
                 extra: dict[str, Any]) -> dict[str, Any]:
        variables = dict(self.base)
        variables["task"] = {"id": task.id, "type": task.type}
        variables["taskrun"] = task_run_variables(task_run)
        if task_run.iteration is not None:   # a WaitFor's child: which pass of the loop
            variables["taskrun"]["iteration"] = task_run.iteration
        # Kestra always sets `parents` (empty at the top level), `parent` only inside a ForEach.
        variables["parents"] = list(scope.parents)
        if scope.parents:
            variables["parent"] = scope.parents[0]
        if self._task_states is not None:
            variables["tasks"] = self._task_states()
        if extra:
            variables.update(extra)
        return variables

    def render(self, value: Any, variables: dict[str, Any], task_id: str, prop: str) -> Any:
        """Render a property value; a template error fails the task, naming the property."""
        literal = literal_copy(value)
        if literal is not NEEDS_RENDERING:
            return literal
        from engine.template import TemplateError  # Jinja loads on the first template, not before

        try:
            return self._runtime.templates.render_value(value, variables, self.services)
        except TemplateError as exc:
            raise TaskFailure(f"task '{task_id}' property '{prop}': {exc.message}") from None

    def render_flow_outputs(self, flow: Flow, log: LogWriter) -> tuple[dict[str, Any], bool]:
        """The flow's `outputs` once its tasks succeeded; (outputs so far, True) on the first error."""
        outputs: dict[str, Any] = {}
        context = dict(self.base)
        for output in flow.outputs:
            try:
                rendered = literal_copy(output.value)
                if rendered is NEEDS_RENDERING:
                    rendered = self._runtime.templates.render_value(output.value, context, self.services)
                outputs[output.id] = typed_flow_output(output, rendered)  # `type: INT` is a number
            except Exception as exc:
                log(None, None, "ERROR", f"flow output '{output.id}': {getattr(exc, 'message', exc)}")
                return outputs, True
        return outputs, False


def task_run_variables(task_run: TaskRun) -> dict[str, Any]:
    """`taskrun` as Kestra's RunVariables builds it: `parentId` and `value` only when set, so
    `{{ taskrun.value }}` outside a ForEach is a missing variable, as in Kestra."""
    variables: dict[str, Any] = {"id": task_run.id, "startDate": task_run.start_date,
                                 "attemptsCount": task_run.attempts}
    if task_run.parent_task_run_id is not None:
        variables["parentId"] = task_run.parent_task_run_id
    if task_run.value is not None:
        variables["value"] = task_run.value
    return variables


def label_variables(labels: Mapping[str, str]) -> dict[str, Any]:
    """`labels` for templates: as given, plus Kestra's nesting of system labels, so that
    `labels.system.correlationId` reads `system.correlationId`."""
    variables: dict[str, Any] = dict(labels)
    system = {key[len("system."):]: value for key, value in labels.items() if key.startswith("system.")}
    if system and "system" not in variables:
        variables["system"] = system
    return variables


def _base_variables(runtime: Runtime, flow: Flow, execution: Execution,
                    outputs: dict[str, Any]) -> dict[str, Any]:
    envs: dict[str, str] = {}
    for prefix in runtime.config.env_prefixes:
        for key, value in runtime.environ.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                envs[key[len(prefix):].lower()] = value
    variables: dict[str, Any] = {
        "flow": {"id": flow.id, "namespace": flow.namespace, "revision": 1},
        "execution": {"id": execution.id, "startDate": execution.start_date or utcnow(),
                      "originalId": execution.original_id or execution.id},
        "inputs": execution.inputs,
        "vars": flow.variables,
        "labels": label_variables(execution.labels),
        "envs": envs,
        "outputs": outputs,
        "globals": runtime.config.globals,
    }
    if execution.trigger is not None:
        variables["trigger"] = execution.trigger
    return variables
