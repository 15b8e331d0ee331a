"""A session on a running execution: wait for its pauses and answer them, as a user would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.core.debug import DebugCommand, PauseInspection
from engine.core.events import Event, PausedAtTask
from engine.execution.executor import ExecutionHandle, Executor
from engine.execution.runtime import RunOptions
from tests.conftest import Engine, RunResult


@dataclass
class DebugSession:
    """A started execution plus every event it published."""

    handle: ExecutionHandle
    events: list[Event] = field(default_factory=list)
    answered: list[PauseInspection] = field(default_factory=list)

    def pause(self, task_id: str | None = None, timeout: float = 30.0) -> PauseInspection:
        """Wait until the execution is paused before a task (``task_id`` if given); a pause
        already answered does not count, even while the executor has not left it yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            paused = self.handle.paused
            if (paused is not None and paused.task_run_id and (task_id is None or paused.task_id == task_id)
                    and not any(paused is done for done in self.answered)):
                return paused
            if self.handle.done:
                break
            time.sleep(0.005)
        states = {r.task_id: r.state.value for r in self.handle.task_runs()}
        raise AssertionError(f"no pause before {task_id or 'any task'}; task runs: {states}")

    def send(self, command: DebugCommand, task_id: str | None = None) -> None:
        paused = self.pause(task_id)
        assert self.handle.command(command), f"{command} was not taken"
        self.answered.append(paused)

    def finish(self, timeout: float = 60.0) -> RunResult:
        execution = self.handle.wait(timeout)
        assert self.handle.done, "execution did not finish"
        return RunResult(execution, self.handle.task_runs(), self.events)

    def pauses(self) -> list[PausedAtTask]:
        return [e for e in self.events if isinstance(e, PausedAtTask) and e.inspection is not None]


def start(engine: Engine, text: str, *, breakpoints: tuple[str, ...] = (), step: bool = False,
          inputs: dict[str, Any] | None = None, **options: Any) -> DebugSession:
    flow = engine.load(text)
    executor = Executor(engine.runtime)
    session_events: list[Event] = []
    executor.bus.subscribe(session_events.append)
    handle = executor.prepare(flow, inputs, options=RunOptions(
        breakpoints=frozenset(breakpoints), step=step, **options))
    executor.start(handle)
    return DebugSession(handle, session_events)


@pytest.fixture
def debug(engine: Engine) -> Iterator[Any]:
    """``debug(text, breakpoints=..., step=...)`` starts an execution; it is cancelled at the end."""
    sessions: list[DebugSession] = []

    def begin(text: str, **kwargs: Any) -> DebugSession:
        session = start(engine, text, **kwargs)
        sessions.append(session)
        return session

    yield begin
    for session in sessions:
        if not session.handle.done:
            session.handle.cancel()
            session.handle.wait(10)
