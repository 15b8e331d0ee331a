"""What templates see in one execution: its variables, and the functions they may call.

`RunVariables` builds the execution's variables once (flow, execution, inputs, vars,
envs, outputs) and a task's on top of them, then renders; `RenderServices` gives the
templates secret(), read(), fileSize() and fileExists(), each limited to what this
execution may read: its own storage files and its namespace's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.core.errors import TaskFailure
from engine.core.records import Execution, TaskRun, utcnow
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
                 namespace_dirs: Mapping[str, Path]) -> None:
        self._runtime = runtime
        self._versions = versions
        self._execution_ids = execution_ids          # its own, and the original's for a replay
        self._namespace_dirs = namespace_dirs

    def readable_storage_path(self, uri: str) -> Path:
        """Storage files a template or task may read: this execution's (or its original's) only."""
        flow = self._versions.info
        return self._runtime.storage.open_execution_file(uri, flow.namespace, flow.id, self._execution_ids)

    def secret(self, name: str) -> str:
        from engine.store.secrets import SecretError

        try:
            return self._runtime.secrets.get(name)
        except SecretError as exc:
            raise _template_error(str(exc)) from None

    def _path(self, path: str) -> Path:
        if path.startswith("kestra://"):
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


class RunVariables:
    """The execution's variables (built once) and each task's, and rendering against them."""

    def __init__(self, runtime: Runtime, flow: Flow, execution: Execution, outputs: dict[str, Any],
                 services: RenderServices) -> None:
        self._runtime = runtime
        self.services = services
        # The real inputs: templates read them; events, history and JSON carry the masked ones.
        self.base = _base_variables(runtime, flow, execution, outputs)

    def set_flow_variables(self, variables: dict[str, Any]) -> None:
        """A new version of the flow's `variables` (hot reload) for the tasks still to run."""
        self.base["vars"] = variables

    def for_task(self, task: Task, task_run: TaskRun, scope: Scope,
                 extra: dict[str, Any]) -> dict[str, Any]:
        variables = dict(self.base)
        variables["task"] = {"id": task.id, "type": task.type}
        variables["taskrun"] = {"id": task_run.id, "startDate": task_run.start_date,
                                "attemptsCount": task_run.attempts, "value": task_run.value,
                                "parentId": task_run.parent_task_run_id}
        if scope.parents:
            variables["parent"] = scope.parents[0]
            variables["parents"] = list(scope.parents)
        if extra:
            variables.update(extra)
        return variables

    def render(self, value: Any, variables: dict[str, Any], task_id: str, prop: str) -> Any:
        """Render a property value; a template error fails the task, naming the property."""
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
                outputs[output.id] = self._runtime.templates.render_value(output.value, context, self.services)
            except Exception as exc:
                log(None, None, "ERROR", f"flow output '{output.id}': {getattr(exc, 'message', exc)}")
                return outputs, True
        return outputs, False


def _base_variables(runtime: Runtime, flow: Flow, execution: Execution,
                    outputs: dict[str, Any]) -> dict[str, Any]:
    envs: dict[str, str] = {}
    for prefix in runtime.config.env_prefixes:
        for key, value in runtime.environ.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                envs[key[len(prefix):].lower()] = value
    variables: dict[str, Any] = {
        "flow": {"id": flow.id, "namespace": flow.namespace, "revision": 1,
                 "description": flow.description},
        "execution": {"id": execution.id, "startDate": utcnow(),
                      "originalId": execution.original_id or execution.id},
        "inputs": execution.inputs,
        "vars": flow.variables,
        "labels": dict(execution.labels),
        "envs": envs,
        "outputs": outputs,
        "globals": {},
    }
    if execution.trigger is not None:
        variables["trigger"] = execution.trigger
    return variables
