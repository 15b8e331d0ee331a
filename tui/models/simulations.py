"""The last trigger simulation of each flow, kept across workbench sessions (``S`` repeats it).

Like breakpoints, it lives in the history's key-value table (``simulation:<namespace>.<flowId>``
-> JSON), so reopening the workbench on the same ROOST_HOME can repeat it. Only what the user
gave is kept (the trigger id, file paths, body, date): never a file's content. No widgets here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.engine_port import History

__all__ = ["SimulationRequest", "SimulationStore"]


@dataclass(frozen=True)
class SimulationRequest:
    """What one simulation of a trigger was given: the simulate form's result."""

    trigger_id: str
    files: tuple[str, ...] = ()
    body: str | None = None
    date: str | None = None

    def to_json(self) -> str:
        return json.dumps({"trigger": self.trigger_id, "files": list(self.files), "body": self.body,
                           "date": self.date})

    @classmethod
    def from_json(cls, text: str) -> SimulationRequest | None:
        """None for a damaged value: it must not stop the workbench."""
        try:
            raw: Any = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("trigger"), str):
            return None
        listed = raw.get("files")
        files = listed if isinstance(listed, list) else []
        body, date = raw.get("body"), raw.get("date")
        return cls(raw["trigger"], tuple(str(f) for f in files),
                   body if isinstance(body, str) else None, date if isinstance(date, str) else None)


class SimulationStore:
    """The last simulation by flow key (``namespace.flowId``); in memory only without a history."""

    def __init__(self, history: History | None) -> None:
        self._history = history
        self._cache: dict[str, SimulationRequest | None] = {}

    @staticmethod
    def storage_key(flow_key: str) -> str:
        return f"simulation:{flow_key}"

    def last(self, flow_key: str) -> SimulationRequest | None:
        if flow_key not in self._cache:
            raw = self._history.get_value(self.storage_key(flow_key)) if self._history else None
            self._cache[flow_key] = SimulationRequest.from_json(raw) if raw else None
        return self._cache[flow_key]

    def remember(self, flow_key: str, request: SimulationRequest) -> None:
        self._cache[flow_key] = request
        if self._history is not None:
            self._history.set_value(self.storage_key(flow_key), request.to_json())
