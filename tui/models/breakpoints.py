"""Breakpoints per flow: the task ids a run pauses before, kept across workbench sessions.

They live in the history's key-value table (``breakpoints:<namespace>.<flowId>`` -> a JSON
list), so reopening the workbench on the same ROOST_HOME finds them again. No widgets here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine_port import History

__all__ = ["BreakpointStore"]


class BreakpointStore:
    """Breakpoints by flow key (``namespace.flowId``); in memory only without a history."""

    def __init__(self, history: History | None) -> None:
        self._history = history
        self._cache: dict[str, frozenset[str]] = {}

    @staticmethod
    def storage_key(flow_key: str) -> str:
        return f"breakpoints:{flow_key}"

    def of(self, flow_key: str) -> frozenset[str]:
        """The task ids of ``flow_key`` that have a breakpoint."""
        cached = self._cache.get(flow_key)
        if cached is not None:
            return cached
        ids: frozenset[str] = frozenset()
        if self._history is not None:
            raw = self._history.get_value(self.storage_key(flow_key))
            try:
                value = json.loads(raw) if raw else []
            except ValueError:  # a damaged value must not stop the workbench
                value = []
            if isinstance(value, list):
                ids = frozenset(str(item) for item in value)
        self._cache[flow_key] = ids
        return ids

    def toggle(self, flow_key: str, task_id: str) -> frozenset[str]:
        """Set or clear the breakpoint on ``task_id``; returns the flow's breakpoints now."""
        current = self.of(flow_key)
        updated = current - {task_id} if task_id in current else current | {task_id}
        self._cache[flow_key] = updated
        if self._history is not None:
            self._history.set_value(self.storage_key(flow_key), json.dumps(sorted(updated)))
        return updated
