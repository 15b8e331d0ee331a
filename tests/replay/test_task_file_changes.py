"""What each task in a WorkingDirectory changed: published live, kept in the history."""

from __future__ import annotations

from pathlib import Path

from engine.core.debug import DebugCommand
from engine.core.events import TaskFilesChanged
from engine.workdir.snapshots import ExecutionSnapshots
from engine.workdir.tracking import after_name
from tests.conftest import Engine
from tests.debugging.conftest import start

FLOW = """
id: changes
namespace: dev.replay
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      input.txt: "given"
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands:
          - printf 'one\\n' > one.txt
          - printf 'doomed' > doomed.txt
      - id: change
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands:
          - printf 'two\\n' >> one.txt
          - rm doomed.txt
          - mkdir -p out && printf 'new' > out/new.txt
      - id: nothing
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands: ["true"]
"""


def _changes(events: list, task_id: str) -> TaskFilesChanged:
    found = [e for e in events if isinstance(e, TaskFilesChanged) and e.task_id == task_id]
    assert len(found) == 1, f"expected one change set for {task_id}, got {len(found)}"
    return found[0]


def test_each_task_reports_files_added_modified_and_deleted_with_sizes(engine: Engine) -> None:
    result = engine.run(FLOW)
    assert result.state == "SUCCESS"
    make = _changes(result.events, "make").changes
    assert [(c.path, c.kind, c.size_before, c.size_after) for c in make.changes] == [
        ("doomed.txt", "added", None, 6), ("one.txt", "added", None, 4)]
    change = _changes(result.events, "change").changes
    assert [(c.path, c.kind, c.size_before, c.size_after) for c in change.changes] == [
        ("doomed.txt", "deleted", 6, None), ("one.txt", "modified", 4, 8), ("out/new.txt", "added", None, 3)]
    assert _changes(result.events, "nothing").changes.is_empty
    assert not [e for e in result.events if isinstance(e, TaskFilesChanged) and e.task_id == "wd"]


def test_the_history_keeps_the_changes_and_the_snapshots_keep_both_sides(engine: Engine) -> None:
    result = engine.run(FLOW)
    engine.runtime.history.flush()
    stored = engine.runtime.history.task_files(result.execution.id)
    change_run = result.run_of("change")
    assert stored[change_run.id].changes == _changes(result.events, "change").changes
    assert stored[change_run.id].snapshot
    snapshots = ExecutionSnapshots.open_existing(engine.home.snapshots, result.execution.id)
    assert snapshots.read(change_run.id, "one.txt") == b"one\n"
    assert snapshots.read(after_name(change_run.id), "one.txt") == b"one\ntwo\n"
    assert snapshots.read(change_run.id, "doomed.txt") == b"doomed"
    assert snapshots.read(after_name(change_run.id), "doomed.txt") is None


def test_files_made_while_paused_belong_to_no_task(engine: Engine) -> None:
    session = start(engine, FLOW, breakpoints=("change",))
    pause = session.pause("change")
    assert pause.working_dir is not None
    Path(pause.working_dir, "from_shell.txt").write_text("typed while paused")
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    change = _changes(result.events, "change").changes
    assert "from_shell.txt" not in {c.path for c in change.changes}
    snapshots = ExecutionSnapshots.open_existing(engine.home.snapshots, result.execution.id)
    assert snapshots.read(result.run_of("change").id, "from_shell.txt") == b"typed while paused"
