"""Kestra's "debug expression": evaluate Pebble against an execution, running or finished.

``outputs.t1.value`` and ``{{ outputs.t1.value | upper }}`` both work: text with
``{{``/``{%`` renders as a template, anything else is evaluated as one expression.
Results are masked: evaluating ``secret('X')`` shows stars, as every screen does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from engine.core.records import EPOCH, Execution, TaskRun
from engine.execution.debug_inspect import json_safe
from engine.execution.runtime import Runtime
from engine.flow.model import Flow


class TemplateServices(Protocol):
    """The functions templates call: secret(), read(), fileSize(), fileExists()."""

    def secret(self, name: str) -> str: ...

    def read(self, path: str) -> str: ...

    def file_size(self, path: str) -> int: ...

    def file_exists(self, path: str) -> bool: ...

    def kv(self, key: str, namespace: str | None, error_on_missing: bool) -> Any: ...


class EvaluationError(Exception):
    """The expression is not valid Pebble, or fails against this execution."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def evaluate_expression(runtime: Runtime, expression: str, variables: dict[str, Any],
                        services: TemplateServices) -> Any:
    """The masked, JSON-safe value of ``expression``; raises EvaluationError with the reason."""
    from engine.template import TemplateError

    text = expression.strip()
    if not text:
        raise EvaluationError("type an expression, e.g. outputs.taskId.value or {{ inputs.name }}")
    try:
        if "{{" in text or "{%" in text:
            value: Any = runtime.templates.render_string(text, variables, services)
        else:
            value = runtime.templates.evaluate(text, variables, services)
    except TemplateError as exc:
        raise EvaluationError(runtime.masker.mask(exc.message)) from None
    return json_safe(runtime.masker.mask_value(value))


def variables_of_finished(execution: Execution, task_runs: Iterable[TaskRun],
                          flow: Flow | None) -> dict[str, Any]:
    """The variables a finished execution's templates saw, rebuilt from its history.

    Outputs come from the recorded task runs (masked ones stay masked: a secret is never
    written to the history in clear). ForEach outputs nest by iteration value, as Kestra's do.
    """
    outputs: dict[str, Any] = {}
    for task_run in sorted(task_runs, key=lambda tr: tr.start_date or EPOCH):
        _place(outputs, task_run.task_id, tuple(task_run.value_path), dict(task_run.outputs))
    variables: dict[str, Any] = {
        "flow": {"id": execution.flow_id, "namespace": execution.namespace, "revision": 1},
        "execution": {"id": execution.id, "startDate": execution.start_date,
                      "originalId": execution.original_id or execution.id,
                      "state": execution.state.value},
        "inputs": dict(execution.inputs),
        "outputs": outputs,
        "labels": dict(execution.labels),
        "vars": dict(getattr(flow, "variables", None) or {}),
        "envs": {},
        "globals": {},
    }
    if flow is not None:
        variables["flow"]["description"] = flow.description
    if execution.trigger is not None:
        variables["trigger"] = execution.trigger
    return variables


def _place(outputs: dict[str, Any], task_id: str, value_path: tuple[str, ...], values: Mapping[str, Any]) -> None:
    if not value_path:
        outputs[task_id] = dict(values)
        return
    node = outputs.setdefault(task_id, {})
    for value in value_path[:-1]:
        node = node.setdefault(value, {})
    node[value_path[-1]] = dict(values)


class HistoryServices:
    """Template functions for a finished execution: read() of its own files; no secrets."""

    def __init__(self, runtime: Runtime, execution: Execution) -> None:
        self._runtime = runtime
        self._execution = execution

    def _error(self, message: str) -> Exception:
        from engine.template import TemplateError

        return TemplateError(message)

    def secret(self, name: str) -> str:
        from engine.store.secrets import SecretError

        try:
            return str(self._runtime.secrets.get(name))
        except SecretError as exc:
            raise self._error(str(exc)) from None

    def _path(self, uri: str) -> Path:
        from engine.store.storage import StorageError

        execution = self._execution
        try:
            return self._runtime.storage.open_execution_file(uri, execution.namespace, execution.flow_id,
                                                             (execution.id, execution.original_id))
        except StorageError as exc:
            raise self._error(str(exc)) from None

    def read(self, path: str) -> str:
        return str(self._path(path).read_text(encoding="utf-8", errors="replace"))

    def file_size(self, path: str) -> int:
        return int(self._path(path).stat().st_size)

    def file_exists(self, path: str) -> bool:
        try:
            return bool(self._path(path).is_file())
        except Exception:
            return False

    def kv(self, key: str, namespace: str | None, error_on_missing: bool) -> Any:
        """The KV store as it is now (not as it was when the execution ran), as Kestra's kv() reads it."""
        from engine.store.kv_store import KvError, lookup_value

        try:
            return lookup_value(self._runtime.kv_store, key, namespace, self._execution.namespace,
                                error_on_missing)
        except KvError as exc:
            raise self._error(exc.message) from None


def evaluate_finished(runtime: Runtime, execution: Execution, task_runs: Iterable[TaskRun], flow: Flow | None,
                      expression: str) -> Any:
    """Evaluate against an execution from the history (after a run, or a past one)."""
    variables = variables_of_finished(execution, task_runs, flow)
    return evaluate_expression(runtime, expression, variables, HistoryServices(runtime, execution))

