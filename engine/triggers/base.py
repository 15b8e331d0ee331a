"""What every trigger type shares: its key, what a firing carries, the context a poll runs in.

A trigger type is a class with its Kestra type names, its declared properties and,
depending on its kind, `evaluate(ctx)` (polling), `next_after(moment)` (schedule) or
`payload(request)` (webhook). Properties stay as written (with plugin defaults
applied) and are rendered at each poll, as Kestra renders them in the trigger's
RunContext: `{{ secret('AWS_ACCESS_KEY_ID') }}` is read when the poll needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

from engine.triggers.properties import Prop, Report, as_duration
from engine.triggers.state import TriggerState

POLLING, SCHEDULE, WEBHOOK = "polling", "schedule", "webhook"
FLOW = "flow"  # fired by another execution's state change (see flow_trigger.py), no thread


@dataclass(frozen=True, order=True)
class TriggerKey:
    """Which trigger: namespace, flow id and trigger id, as Kestra keys its trigger table."""

    namespace: str
    flow_id: str
    trigger_id: str

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}.{self.trigger_id}"

    @property
    def flow_key(self) -> str:
        return f"{self.namespace}.{self.flow_id}"


@dataclass(frozen=True)
class TriggerFiring:
    """One execution to start: its `trigger` variables, inputs, and the id files were stored under."""

    variables: dict[str, Any]
    execution_id: str
    inputs: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class Trigger:
    """A trigger definition of one flow; subclasses declare TYPES, KIND and PROPERTIES."""

    TYPES: ClassVar[tuple[str, ...]] = ()
    KIND: ClassVar[str] = POLLING
    PROPERTIES: ClassVar[dict[str, Prop]] = {}
    DEFAULT_INTERVAL: ClassVar[timedelta] = timedelta(seconds=60)

    def __init__(self, trigger_id: str, type_name: str, props: Mapping[str, Any]) -> None:
        self.id = trigger_id
        self.type = type_name
        self.props = dict(props)

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        """Rules across properties (e.g. MOVE needs moveTo); the declared ones are checked already."""

    @property
    def disabled(self) -> bool:
        return self.props.get("disabled") in (True, "true")

    @property
    def allow_concurrent(self) -> bool:
        return self.props.get("allowConcurrent") in (True, "true")

    @property
    def stop_after(self) -> tuple[str, ...]:
        value = self.props.get("stopAfter")
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    @property
    def interval(self) -> timedelta:
        """How often a polling trigger polls (Kestra's `interval`, PT60S by default)."""
        return as_duration(self.props.get("interval"), "interval", self.DEFAULT_INTERVAL) or self.DEFAULT_INTERVAL

    def evaluate(self, ctx: TriggerContext) -> TriggerFiring | None:
        """One poll: a firing when something new was found, else None; raises TriggerError."""
        raise NotImplementedError


class TriggerContext(Protocol):
    """What one evaluation (poll) of one trigger sees; the scheduler provides it.

    A trigger type depends on this, never on the scheduler, the runtime or the flow model:
    the implementation is :class:`engine.scheduling.trigger_context.PollContext`.
    """

    execution_id: str
    """The id the execution this poll may start will have (files are stored under it)."""
    stop: threading.Event
    retry_after: float | None
    """Seconds: poll again sooner than the interval (e.g. a file still being written)."""

    @property
    def key(self) -> TriggerKey: ...

    def log(self, level: str, message: str) -> None:
        """A line in the trigger's log, masked."""
        ...

    def prop(self, name: str) -> Any:
        """The trigger property `name`, rendered for this poll (a template error names it)."""
        ...

    def render(self, value: Any, name: str, extra: Mapping[str, Any] | None = None) -> Any:
        """`value` rendered for this poll, with `extra` variables on top (an HTTP `response`)."""
        ...

    def state(self, default_key: str, ttl: timedelta | None) -> TriggerState:
        """The trigger's dedup state (what it saw already), stored across runs."""
        ...

    def storage_uri(self, name: str) -> str:
        """A new kestra:/// URI for a file this poll hands to the execution it starts."""
        ...

    def put_file(self, uri: str, path: Path) -> None:
        """Copy a local file into internal storage at `uri` (raises OSError)."""
        ...

    def path_of(self, uri: str) -> Path:
        """Where internal storage keeps `uri` on disk (to stream a download into)."""
        ...

    def discard_files(self) -> None:
        """Remove what this evaluation stored: no execution will own it."""
        ...
