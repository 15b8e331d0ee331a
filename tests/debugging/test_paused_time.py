"""A task's duration is its running time: the time it waited at a breakpoint is recorded apart
(``paused_seconds``), kept in history, shown beside the duration, and not copied by a replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.cli.output import duration_text
from engine.core.debug import DebugCommand
from engine.core.records import StateEntry, TaskRun
from engine.core.states import State
from engine.execution.replay import prepare_replay
from tests.conftest import Engine
from tests.debugging.conftest import start

TWO = """
id: two
namespace: dev.debug
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one"
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }} two"
"""

READ_SECONDS = 11.3
"""How long the user "reads" the paused task, on a fake clock: the pause's measured length is
this plus the few real milliseconds it took, so no test depends on the machine's speed."""


@pytest.fixture
def long_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """The debugger's clock runs READ_SECONDS ahead when the pause is answered."""
    import engine.execution.debug_session as debug_session

    real = debug_session.utcnow
    monkeypatch.setattr(debug_session, "utcnow", lambda: real() + timedelta(seconds=READ_SECONDS))


def _run_with_a_pause(engine: Engine) -> tuple[TaskRun, TaskRun, str]:
    session = start(engine, TWO, breakpoints=("second",))
    session.pause("second")
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.state == "SUCCESS"
    return result.run_of("first"), result.run_of("second"), result.execution.id


T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _paused_run() -> TaskRun:
    """A run recorded as the engine records one: RUNNING for 1 s, PAUSED 11.3 s, 55 ms more."""
    at = [T0, T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=12.3), T0 + timedelta(seconds=12.355)]
    states = [State.CREATED, State.RUNNING, State.PAUSED, State.RUNNING, State.SUCCESS]
    return TaskRun(id="r", execution_id="e", task_id="second", task_type="t", state=State.SUCCESS,
                   histories=tuple(StateEntry(s, d) for s, d in zip(states, at, strict=True)),
                   paused_seconds=11.3)


def test_running_time_is_start_to_end_less_the_time_paused() -> None:
    run = _paused_run()
    assert run.running_seconds() == pytest.approx(1.055)
    assert run.to_json()["pausedSeconds"] == 11.3


def test_the_cli_shows_running_time_and_the_pause_apart() -> None:
    assert duration_text(_paused_run()) == "1.05s (paused 11.30s)"


def test_without_pauses_drops_the_pause_and_moves_the_later_states_back() -> None:
    copied = _paused_run().without_pauses()
    assert copied.paused_seconds == 0.0
    assert [h.state for h in copied.histories] == [State.CREATED, State.RUNNING, State.RUNNING, State.SUCCESS]
    assert copied.end_date == T0 + timedelta(seconds=1.055)
    assert copied.running_seconds() == pytest.approx(1.055)
    assert "paused" not in duration_text(copied)


def test_time_at_a_breakpoint_is_recorded_apart_from_running_time(engine: Engine, long_pause: None) -> None:
    first, second, _ = _run_with_a_pause(engine)
    assert "pausedSeconds" not in first.to_json()  # it never waited
    assert second.paused_seconds >= READ_SECONDS  # the fake clock's wait, measured
    assert "(paused " in duration_text(second)


def test_history_keeps_the_paused_time(engine: Engine, long_pause: None) -> None:
    _, second, execution_id = _run_with_a_pause(engine)
    history = engine.runtime.history
    history.flush()
    stored = next(r for r in history.task_runs(execution_id) if r.task_id == "second")
    assert stored.paused_seconds == second.paused_seconds


THREE = TWO + """
  - id: third
    type: io.kestra.plugin.core.debug.Return
    format: "three"
"""


def test_a_replay_after_a_paused_task_copies_no_pause(engine: Engine, long_pause: None) -> None:
    session = start(engine, THREE, breakpoints=("second",))
    session.pause("second")
    session.send(DebugCommand.CONTINUE)
    original = session.finish()
    engine.runtime.history.flush()
    prepared = prepare_replay(engine.runtime, original.execution.id, "third")
    replayed = start(engine, THREE, replay=prepared.plan).finish()  # no breakpoint this time
    copy = replayed.run_of("second")
    assert original.run_of("second").paused_seconds >= READ_SECONDS
    assert copy.paused_seconds == 0.0
    assert State.PAUSED not in [h.state for h in copy.histories]
    assert "paused" not in duration_text(copy)
