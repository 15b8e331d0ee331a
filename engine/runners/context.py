"""What a runner may use of the running task: the `RunnerContext` protocol.

Runners sit below tasks and the executor: they see the ids a container is labelled
with, the stop signal, the task's log, a few render helpers for the runner options,
and the settings that decide where commands run. The executor's task context
satisfies it; tests can hand in anything shaped like it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from engine.core.config import RoostConfig, RoostHome


class RunnerContext(Protocol):
    """The running task, as the process and Docker runners see it."""

    @property
    def execution_id(self) -> str: ...

    @property
    def task_id(self) -> str: ...

    @property
    def task_run_id(self) -> str: ...

    stop: threading.Event
    """Set on cancel and timeout: a runner kills what it started."""

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment Roost was started with (a process inherits it)."""
        ...

    @property
    def config(self) -> RoostConfig: ...

    @property
    def home(self) -> RoostHome: ...

    @property
    def runner_option(self) -> str | None:
        """The run's `--runner` choice (auto, process, docker); None: roost.toml decides."""
        ...

    def render_map(self, value: Any, prop: str) -> dict[str, Any]: ...

    def render_optional_str(self, value: Any, prop: str) -> str | None: ...

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def notice_once(self, key: str, message: str) -> None: ...

    def set_runner(self, description: str) -> None: ...

