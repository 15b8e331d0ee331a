"""What every trigger type shares: its key, what a firing carries, the context a poll runs in.

A trigger type is a class with its Kestra type names, its declared properties and,
depending on its kind, `evaluate(ctx)` (polling), `next_after(moment)` (schedule) or
`payload(request)` (webhook). Properties stay as written (with plugin defaults
applied) and are rendered at each poll, as Kestra renders them in the trigger's
RunContext: `{{ secret('AWS_ACCESS_KEY_ID') }}` is read when the poll needs it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from engine.core.ids import new_id
from engine.triggers.properties import Prop, Report, TriggerError, as_duration

if TYPE_CHECKING:
    from engine.flow.model import Flow
    from engine.execution.runtime import Runtime
    from engine.triggers.state import TriggerState

POLLING, SCHEDULE, WEBHOOK = "polling", "schedule", "webhook"


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


class TriggerServices:
    """Template functions available to trigger properties: secret() only, as in Kestra."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def secret(self, name: str) -> str:
        from engine.store.secrets import SecretError
        from engine.template import TemplateError

        try:
            return self._runtime.secrets.get(name)
        except SecretError as exc:
            raise TemplateError(str(exc)) from None

    def _unavailable(self, *_args: Any) -> Any:
        from engine.template import TemplateError

        raise TemplateError("files cannot be read while rendering a trigger property")

    read = file_size = file_exists = _unavailable


class TriggerContext:
    """What one evaluation of one trigger sees: rendering, logging, storage, dedup state."""

    def __init__(self, runtime: Runtime, flow: Flow, trigger: Trigger,
                 log: Callable[[str, str], None], state: Callable[[str, timedelta | None], TriggerState],
                 stop: threading.Event | None = None) -> None:
        self.runtime = runtime
        self.flow = flow
        self.trigger = trigger
        self.execution_id = new_id()
        self._log = log
        self._state = state
        self.stop = stop or threading.Event()
        self.retry_after: float | None = None  # seconds: poll again sooner (e.g. a file still being written)
        self._stored: list[str] = []

    @property
    def key(self) -> TriggerKey:
        return TriggerKey(self.flow.namespace, self.flow.id, self.trigger.id)

    def log(self, level: str, message: str) -> None:
        self._log(level, self.runtime.masker.mask(message))

    def variables(self) -> dict[str, Any]:
        envs: dict[str, str] = {}
        for prefix in self.runtime.config.env_prefixes:
            for name, value in self.runtime.environ.items():
                if name.startswith(prefix) and len(name) > len(prefix):
                    envs[name[len(prefix):].lower()] = value
        return {
            "flow": {"id": self.flow.id, "namespace": self.flow.namespace, "revision": 1},
            "trigger": {"id": self.trigger.id, "type": self.trigger.type},
            "envs": envs, "globals": {}, "labels": dict(self.flow.labels),
        }

    def render(self, value: Any, name: str) -> Any:
        """A property rendered for this poll; a template error names the property."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            return value
        from engine.template import TemplateError

        try:
            return self.runtime.templates.render_value(value, self.variables(), TriggerServices(self.runtime))
        except TemplateError as exc:
            raise TriggerError(f"property '{name}': {exc.message}") from None

    def prop(self, name: str) -> Any:
        return self.render(self.trigger.props.get(name), name)

    def state(self, default_key: str, ttl: timedelta | None) -> TriggerState:
        return self._state(default_key, ttl)

    def storage_uri(self, name: str) -> str:
        """A new kestra:/// URI for a file this trigger hands to the execution it starts."""
        storage = self.runtime.storage
        safe = PurePosixPath(name.replace("\\", "/")).name or "file"
        candidate = safe
        counter = 1
        while True:
            uri = storage.trigger_file_uri(self.flow.namespace, self.flow.id, self.execution_id,
                                           self.trigger.id, candidate)
            if uri not in self._stored:
                break
            counter += 1
            stem, dot, suffix = safe.partition(".")
            candidate = f"{stem}-{counter}{dot}{suffix}"
        self._stored.append(uri)
        return uri

    def discard_files(self) -> None:
        """Remove what this evaluation stored: no execution will own it."""
        if not self._stored:
            return
        storage = self.runtime.storage
        prefix = storage.execution_prefix(self.flow.namespace, self.flow.id, self.execution_id)
        shutil.rmtree(storage.root.joinpath(*prefix.strip("/").split("/")), ignore_errors=True)
        self._stored.clear()
