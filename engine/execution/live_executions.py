"""The executions running in this process, by id: what a Resume task can reach.

Kestra resumes an execution by emitting it on the execution queue, where any executor picks
it up. Roost has no queue between processes: an execution is driven by the thread of the
process that started it, so only those registered here (the CLI's run, the workbench's runs,
a subflow's child) can be resumed from a task.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from engine.core.records import Execution


class LiveRun(Protocol):
    """What Resume needs of a running execution (the executor's ExecutionRun)."""

    @property
    def execution(self) -> Execution: ...

    def resume(self, inputs: Mapping[str, Any] | None = None) -> None: ...


class LiveExecutions:
    """A registry safe from any thread; the executor adds a run as it starts and removes it at its end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, LiveRun] = {}

    def add(self, run: LiveRun) -> None:
        with self._lock:
            self._runs[run.execution.id] = run

    def remove(self, execution_id: str) -> None:
        with self._lock:
            self._runs.pop(execution_id, None)

    def get(self, execution_id: str) -> LiveRun | None:
        with self._lock:
            return self._runs.get(execution_id)
