"""The executor's side of `engine.tasks.subflow_port`: the child executions of one execution.

A Subflow or ForEachItem task asks for a child; this finds the flow by namespace + id
(engine.flow.flow_finder), refuses a flow already running up the call chain, builds the
child's labels and `trigger` variables as Kestra's ExecutableUtils does, and has an
executor prepare it (inputs checked then). Each child runs in a thread of its own, its
events on its own bus with the history attached, so it is recorded as any execution is and
the parent's log stream stays the parent's. At most MAX_RUNNING_CHILDREN children of one
execution run at once; the others wait (CREATED) for a slot. Children the parent did not
wait for are waited for when the parent ends, so a `roost run` leaves none half-run.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from engine.core.errors import InvalidFlowError, TaskFailure
from engine.core.records import Execution, TaskRun, utcnow
from engine.execution.flow_versions import FlowVersions
from engine.execution.run_state import RunState
from engine.execution.runtime import RunOptions, Runtime
from engine.flow.flow_finder import FlowFinder, flow_roots
from engine.flow.model import Flow
from engine.tasks.subflow_port import (
    CORRELATION_ID,
    SYSTEM_LABEL_PREFIX,
    ChildOutcome,
    ChildRequest,
)

MAX_RUNNING_CHILDREN = 4
"""Per parent execution. Kestra queues subflow executions on its workers; here each running
child is a thread and its tasks' processes, so a ForEachItem of 500 batches must not start
500 of them on a laptop. Four keeps two cores busy while children wait on I/O or processes."""

FLOW_REVISION = 1
"""Roost's one revision of a flow (see `flow.revision` in templates)."""


class LaunchedExecution(Protocol):
    """A prepared execution (the executor's ExecutionHandle)."""

    execution_id: str

    @property
    def execution(self) -> Execution: ...

    def task_runs(self) -> list[TaskRun]: ...

    def cancel(self) -> None: ...

    def run_here(self) -> None: ...


class Launcher(Protocol):
    """Prepares executions (the executor's Executor)."""

    def prepare(self, flow: Flow, inputs: Mapping[str, Any] | None = None, *,
                trigger: dict[str, Any] | None = None, labels: Mapping[str, str] | None = None,
                options: RunOptions | None = None) -> LaunchedExecution: ...


class ChildExecutions:
    """Implements `ChildFlows` for one parent execution; safe from any of its task threads."""

    def __init__(self, runtime: Runtime, state: RunState, versions: FlowVersions, options: RunOptions,
                 launcher: Callable[[], Launcher]) -> None:
        self._runtime = runtime
        self._state = state
        self._versions = versions
        self._options = options
        self._make_launcher = launcher
        self._launcher: Launcher | None = None
        self._finder: FlowFinder | None = None
        self._lock = threading.Lock()
        self._find_lock = threading.Lock()
        self._children: list[_Child] = []
        self._slots = threading.BoundedSemaphore(MAX_RUNNING_CHILDREN)

    def start(self, request: ChildRequest) -> _Child:
        info = self._versions.info
        chain = (*self._options.call_chain, f"{info.namespace}.{info.id}")
        if request.flow_key in chain:
            raise TaskFailure(f"recursive subflow call: {' -> '.join((*chain, request.flow_key))}; "
                              "a flow already running up this chain of subflows cannot start again")
        flow = self._find(request)
        if flow.disabled:
            raise TaskFailure(f"flow {request.flow_key} is disabled: Cannot execute a flow which is disabled")
        parent = self._state.execution
        trigger = {"executionId": parent.id, "namespace": info.namespace, "flowId": info.id,
                   "flowRevision": FLOW_REVISION}
        options = dataclasses.replace(self._options, breakpoints=frozenset(), step=False, replay=None,
                                      task_fixtures={}, call_chain=chain)
        from engine.flow.inputs import InputError

        try:
            handle = self._get_launcher().prepare(flow, dict(request.inputs), trigger=trigger,
                                                  labels=child_labels(parent, request), options=options)
        except InputError as exc:
            raise TaskFailure(f"flow {request.flow_key} refused the inputs: {exc}") from None
        child = _Child(handle, flow, self._runtime, self._slots, request.schedule_date)
        with self._lock:
            self._children.append(child)
        child.start()
        return child

    def cancel_all(self) -> None:
        """The parent was killed: so are its children, waited for or not (Kestra's kill cascade)."""
        with self._lock:
            children = list(self._children)
        for child in children:
            child.cancel()

    def wait_for_all(self) -> None:
        """Block until every child ended (those started with `wait: false` included)."""
        with self._lock:
            children = list(self._children)
        for child in children:
            child.join()

    def _get_launcher(self) -> Launcher:
        with self._lock:
            if self._launcher is None:
                self._launcher = self._make_launcher()
            return self._launcher

    def _find(self, request: ChildRequest) -> Flow:
        with self._find_lock:
            if self._finder is None:
                config = self._runtime.config
                self._finder = FlowFinder(flow_roots(self._versions.info.path, config, self._options.flow_dirs),
                                          config.plugin_defaults)
            finder = self._finder
            try:
                flow = finder.find(request.namespace, request.flow_id)
            except InvalidFlowError as exc:
                raise TaskFailure(f"flow {request.flow_key} is invalid, so it cannot run as a subflow:\n{exc}") from None
        if flow is None:
            raise TaskFailure(f"Unable to find flow '{request.namespace}'.'{request.flow_id}': no flow file "
                              f"with namespace: {request.namespace} and id: {request.flow_id} under "
                              f"{finder.describe_roots()}")
        return flow


def parent_files(trigger: Mapping[str, Any] | None) -> tuple[str, str, str] | None:
    """(namespace, flowId, executionId) from an execution's trigger variables, when it names one:
    Kestra lets such an execution read that execution's files (a ForEachItem batch, a FILE input)."""
    if not trigger:
        return None
    namespace, flow_id, execution_id = (trigger.get("namespace"), trigger.get("flowId"),
                                        trigger.get("executionId"))
    if isinstance(namespace, str) and isinstance(flow_id, str) and isinstance(execution_id, str):
        return (namespace, flow_id, execution_id) if namespace and flow_id and execution_id else None
    return None


def child_labels(parent: Execution, request: ChildRequest) -> dict[str, str]:
    """Kestra's: the parent's system labels (all its labels with inheritLabels), the task's, and
    `system.correlationId` carried down from the execution that started the chain."""
    if request.inherit_labels:
        labels = dict(parent.labels)
    else:
        labels = {k: v for k, v in parent.labels.items() if k.startswith(SYSTEM_LABEL_PREFIX)}
    labels.update(request.labels)
    labels.setdefault(CORRELATION_ID, parent.labels.get(CORRELATION_ID, parent.id))
    return labels


class _Child:
    """One child execution: its thread waits for the start date and a slot, then runs it."""

    def __init__(self, handle: LaunchedExecution, flow: Flow, runtime: Runtime,
                 slots: threading.BoundedSemaphore, not_before: datetime | None) -> None:
        self._handle = handle
        self._flow = flow
        self._runtime = runtime
        self._slots = slots
        self._not_before = not_before
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"subflow-{handle.execution_id[:8]}",
                                        daemon=True)

    @property
    def execution_id(self) -> str:
        return self._handle.execution_id

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while self._not_before is not None and not self._cancelled.is_set():
            delay = (self._not_before - utcnow()).total_seconds()   # a timed wait may end early
            if delay <= 0:
                break
            self._cancelled.wait(delay)
        acquired = False
        while not acquired and not self._cancelled.is_set():
            acquired = self._slots.acquire(timeout=0.1)
        try:
            self._handle.run_here()   # cancelled before it ran: it still ends, KILLED, in history
        finally:
            if acquired:
                self._slots.release()

    def join(self) -> None:
        self._thread.join()

    def wait(self, timeout: float | None) -> ChildOutcome | None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        execution = self._handle.execution
        return ChildOutcome(execution.id, execution.state, dict(execution.outputs))

    def cancel(self) -> None:
        self._cancelled.set()
        self._handle.cancel()

    def render(self, value: Any, prop: str) -> Any:
        """Against the ended child: its inputs, its tasks' outputs, its labels and trigger."""
        from engine.execution.expression_eval import HistoryServices, variables_of_finished
        from engine.template import TemplateError

        execution = self._handle.execution
        variables = variables_of_finished(execution, self._handle.task_runs(), self._flow)
        try:
            return self._runtime.templates.render_value(value, variables, HistoryServices(self._runtime, execution))
        except TemplateError as exc:
            raise TaskFailure(f"property '{prop}': {exc.message}") from None
