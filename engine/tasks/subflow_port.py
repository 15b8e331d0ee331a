"""What Subflow and ForEachItem ask of the engine: child executions of other flows.

Kestra's executor creates a subflow's execution and reports its end back to the parent task
run; here the task asks its context (`TaskContext.child_flows`) to start a child execution
and then waits on it in its own thread. These types are all a task sees of that: a request,
a handle on the running child and its outcome. The executor implements them in
`engine.execution.child_executions`; the flow layer uses `CallsFlow` to find static
recursive calls before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from engine.core.states import State

SYSTEM_LABEL_PREFIX = "system."
CORRELATION_ID = "system.correlationId"


@dataclass(frozen=True)
class ChildRequest:
    """One child execution to create: which flow, with what inputs and labels, and when."""

    namespace: str
    flow_id: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    """The task's own `labels`, rendered; system labels are refused before this."""
    inherit_labels: bool = False
    schedule_date: datetime | None = None
    """Start no earlier than this (Kestra's `scheduleDate`); None: now."""

    @property
    def flow_key(self) -> str:
        return f"{self.namespace}.{self.flow_id}"


@dataclass(frozen=True)
class ChildOutcome:
    """How a child execution ended: its id, its final state and its flow outputs (masked)."""

    execution_id: str
    state: State
    outputs: dict[str, Any]


class ChildRun(Protocol):
    """A child execution that was created (and is running, or waiting for its start date)."""

    @property
    def execution_id(self) -> str: ...

    def wait(self, timeout: float | None) -> ChildOutcome | None:
        """Its outcome once it ended; None if it still runs after `timeout` seconds."""
        ...

    def cancel(self) -> None:
        """Kill it (the parent was cancelled or timed out); it ends KILLED."""
        ...

    def render(self, value: Any, prop: str) -> Any:
        """Render a template against the ended child (Subflow's deprecated `outputs` map)."""
        ...


class ChildFlows(Protocol):
    """Starts executions of other flows as children of the running execution."""

    def start(self, request: ChildRequest) -> ChildRun:
        """Find the flow (namespace + id), create its execution and start it.

        Raises TaskFailure with a sentence naming `namespace.flowId` when the flow is not
        found, invalid, disabled, refuses the inputs, or is already running up the call chain.
        """
        ...


@runtime_checkable
class CallsFlow(Protocol):
    """A task that starts executions of another flow (Subflow, ForEachItem)."""

    def called_flow(self) -> tuple[str, str] | None:
        """(namespace, flowId) when both are literal; None when a template decides them."""
        ...
