"""Shared fixtures: an isolated ROOST_HOME and a helper that runs a flow to the end."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from engine.core.config import RoostConfig, RoostHome
from engine.core.events import Event, LogLine
from engine.core.records import Execution, TaskRun
from engine.execution.executor import Executor
from engine.execution.runtime import RunOptions, Runtime
from engine.flow.loader import load_flow_text
from engine.flow.model import Flow

REPO_ROOT = Path(__file__).resolve().parent.parent

# Script tasks without a taskRunner run in Docker by default (Kestra 1.x); with an engine up (CI)
# every shell/python task of the suite would go into a container. The suite runs them as local
# processes, subprocesses included (they inherit os.environ); tests of the default remove it.
os.environ.setdefault("ROOST_RUNNER", "process")

# Hypothesis fails an example slower than its deadline (200 ms unless told otherwise): a
# wall-clock assertion, which a busy machine trips. No deadline anywhere; pytest-timeout
# (pyproject.toml) cuts off a real hang.
settings.register_profile("roost", deadline=None)
settings.load_profile("roost")

_LEVEL_ORDER = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def processes_with_environment(name: str, value: str) -> list[int]:
    """Live processes whose environment holds NAME=value: a test's own leftovers, never another
    test session's (a `pgrep -f 'sleep 60'` would also see those)."""
    needle = f"{name}={value}\0".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{entry}/stat", "rb") as handle:
                zombie = handle.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
        except OSError:
            continue
        if not zombie and (environ.startswith(needle) or b"\0" + needle in environ):
            found.append(int(entry))
    return found


def leftover_processes(name: str, value: str, within: float = 30.0) -> list[int]:
    """processes_with_environment, given `within` seconds to die (a kill is not instantaneous)."""
    deadline = time.monotonic() + within
    while (found := processes_with_environment(name, value)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def require_in_ci(reason: str) -> None:
    """Skip with a reason on a developer machine; fail under CI=true, where every part must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@dataclass
class RunResult:
    execution: Execution
    task_runs: list[TaskRun]
    events: list[Event] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.execution.state.value

    def logs(self, task_id: str | None = None, min_level: str = "INFO") -> list[str]:
        """Messages a user sees at `min_level` (INFO by default: Roost's own DEBUG notes left out)."""
        lowest = _LEVEL_ORDER.index(min_level)
        return [e.message for e in self.events
                if isinstance(e, LogLine) and (task_id is None or e.task_id == task_id)
                and _LEVEL_ORDER.index(e.level if e.level in _LEVEL_ORDER else "INFO") >= lowest]

    def runs_of(self, task_id: str) -> list[TaskRun]:
        return [r for r in self.task_runs if r.task_id == task_id]

    def run_of(self, task_id: str) -> TaskRun:
        runs = self.runs_of(task_id)
        assert len(runs) == 1, f"expected one run of {task_id}, got {len(runs)}"
        return runs[0]

    def states(self) -> dict[str, str]:
        return {r.task_id if r.value is None else f"{r.task_id}[{r.value}]": r.state.value
                for r in self.task_runs}


class Engine:
    """A runtime in a temporary ROOST_HOME, with a `run` helper for YAML text."""

    def __init__(self, home: Path, flow_dir: Path, environ: dict[str, str] | None = None) -> None:
        self.home = RoostHome(home)
        self.flow_dir = flow_dir
        self.config = RoostConfig()
        self.environ = environ if environ is not None else dict(os.environ)
        self.environ.setdefault("ROOST_RUNNER", os.environ["ROOST_RUNNER"])
        # Like a user whose virtualenv is active: script tasks find its python and packages.
        self.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.environ.get('PATH', '')}"
        self.runtime = Runtime.create(self.home, self.config, environ=self.environ)

    def with_config(self, config: RoostConfig) -> None:
        """Swap roost.toml settings (plugin defaults, git rewrites...) for the next runs."""
        self.config = config
        self.runtime.config = config

    def load(self, text: str, name: str = "flow.yml") -> Flow:
        path = self.flow_dir / name
        path.write_text(textwrap.dedent(text))
        return load_flow_text(path.read_text(), str(path), self.config.plugin_defaults)

    def run(self, text: str, inputs: dict[str, Any] | None = None, *, options: RunOptions | None = None,
            trigger: dict[str, Any] | None = None,
            on_event: Callable[[Event], None] | None = None) -> RunResult:
        flow = self.load(text)
        return self.run_flow(flow, inputs, options=options, trigger=trigger, on_event=on_event)

    def run_flow(self, flow: Flow, inputs: dict[str, Any] | None = None, *,
                 options: RunOptions | None = None, trigger: dict[str, Any] | None = None,
                 on_event: Callable[[Event], None] | None = None) -> RunResult:
        """Run to the end; ``on_event`` sees each event as it happens (a test's rendezvous)."""
        executor = Executor(self.runtime)
        events: list[Event] = []
        executor.bus.subscribe(events.append)
        if on_event is not None:
            executor.bus.subscribe(on_event)
        handle = executor.prepare(flow, inputs, options=options, trigger=trigger)
        executor.start(handle)
        execution = handle.wait(120)
        assert handle.done, "execution did not finish within 120 s"
        return RunResult(execution, handle.task_runs(), events)

    def close(self) -> None:
        self.runtime.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    flows = tmp_path / "flows"
    flows.mkdir()
    instance = Engine(tmp_path / "home", flows)
    yield instance
    instance.close()
