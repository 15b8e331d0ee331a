"""The scheduler's side of a trigger poll: the context a trigger type evaluates in.

Trigger types (engine/triggers) see only the :class:`~engine.triggers.base.TriggerContext`
protocol; this module holds the implementation, which reaches the runtime (storage, secrets,
templates, settings) and the flow.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from engine.core.ids import new_id
from engine.execution.runtime import Runtime
from engine.flow.model import Flow
from engine.triggers.base import Trigger, TriggerKey
from engine.triggers.properties import TriggerError
from engine.triggers.state import TriggerState


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

    def kv(self, *_args: Any) -> Any:
        from engine.template import TemplateError

        raise TemplateError("kv() is not available while rendering a trigger property")


class PollContext:
    """What one evaluation of one trigger sees: rendering, logging, storage, dedup state.

    Satisfies :class:`engine.triggers.base.TriggerContext`; made by the scheduler per poll.
    """

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

    def render(self, value: Any, name: str, extra: Mapping[str, Any] | None = None) -> Any:
        """A property rendered for this poll (`extra` variables on top); errors name the property."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            return value
        from engine.template import TemplateError

        try:
            variables = {**self.variables(), **(extra or {})}
            return self.runtime.templates.render_value(value, variables, TriggerServices(self.runtime))
        except TemplateError as exc:
            raise TriggerError(f"property '{name}': {exc.message}") from None

    def prop(self, name: str) -> Any:
        return self.render(self.trigger.props.get(name), name)

    def state(self, default_key: str, ttl: timedelta | None) -> TriggerState:
        return self._state(default_key, ttl)

    def put_file(self, uri: str, path: Path) -> None:
        self.runtime.storage.put_file(uri, path)

    def path_of(self, uri: str) -> Path:
        return self.runtime.storage.path_of(uri)

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
