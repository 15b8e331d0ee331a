"""Saving the flow while paused: the new version applies to the tasks not run yet."""

from __future__ import annotations

import textwrap

from engine.core.debug import DebugCommand
from engine.flow.loader import load_flow_text
from tests.conftest import Engine

BEFORE = """
id: edit
namespace: dev.debug
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one"
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "old second"
  - id: gone
    type: io.kestra.plugin.core.debug.Return
    format: "removed later"
"""

AFTER = """
id: edit
namespace: dev.debug
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one, edited"
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "new second after {{ outputs.first.value }}"
  - id: added
    type: io.kestra.plugin.core.debug.Return
    format: "added while paused"
"""


def _reload(engine: Engine, text: str):  # noqa: ANN202 - a Flow
    path = engine.flow_dir / "flow.yml"
    path.write_text(textwrap.dedent(text))
    return load_flow_text(path.read_text(), str(path), engine.config.plugin_defaults)


def test_edits_apply_to_tasks_not_yet_run_and_the_note_says_what_changed(engine: Engine, debug) -> None:
    session = debug(BEFORE, breakpoints=("second",))
    session.pause("second")
    update = session.handle.update_flow(_reload(engine, AFTER))
    assert update.changed == ("second",)
    assert update.added == ("added",)
    assert update.removed == ("gone",)
    assert update.already_ran == ("first",)
    note = update.describe()
    assert "changed second" in note and "added added" in note and "removed gone" in note
    assert "Already ran" in note and "first" in note
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.state == "SUCCESS"
    assert result.run_of("first").outputs == {"value": "one"}
    assert result.run_of("second").outputs == {"value": "new second after one"}
    assert result.run_of("added").outputs == {"value": "added while paused"}
    assert result.runs_of("gone") == []
    assert note in result.logs()


def test_the_paused_task_removed_from_the_yaml_is_skipped_with_a_reason(engine: Engine, debug) -> None:
    session = debug(BEFORE, breakpoints=("gone",))
    session.pause("gone")
    session.handle.update_flow(_reload(engine, BEFORE.replace(
        '  - id: gone\n    type: io.kestra.plugin.core.debug.Return\n    format: "removed later"\n', "")))
    session.send(DebugCommand.NEXT)
    result = session.finish()
    assert result.run_of("gone").state.value == "SKIPPED"
    assert any("removed from the flow while paused" in line for line in result.logs("gone"))


def test_rerun_after_editing_runs_the_new_definition_of_the_finished_task(engine: Engine, debug) -> None:
    session = debug(BEFORE, breakpoints=("second",))
    session.pause("second")
    session.handle.update_flow(_reload(engine, AFTER))
    session.send(DebugCommand.RERUN, "second")
    pause = session.pause("second")
    assert pause.properties["format"] == "new second after one, edited"
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert [r.outputs["value"] for r in result.runs_of("first")] == ["one", "one, edited"]
    assert result.run_of("second").outputs == {"value": "new second after one, edited"}


def test_edits_inside_a_running_working_directory_reach_its_remaining_children(engine: Engine, debug) -> None:
    text = """
        id: wdedit
        namespace: dev.debug
        tasks:
          - id: wd
            type: io.kestra.plugin.core.flow.WorkingDirectory
            tasks:
              - id: a
                type: io.kestra.plugin.scripts.shell.Commands
                taskRunner: {type: io.kestra.plugin.core.runner.Process}
                commands: ["echo a > a.txt"]
              - id: b
                type: io.kestra.plugin.scripts.shell.Commands
                taskRunner: {type: io.kestra.plugin.core.runner.Process}
                commands: ["exit 3"]
        """
    session = debug(text, breakpoints=("b",))
    session.pause("b")
    session.handle.update_flow(_reload(engine, text.replace('["exit 3"]', '["cat a.txt"]')))
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.state == "SUCCESS", result.logs()
    assert "a" in result.logs("b")


def test_a_different_flow_is_refused(engine: Engine, debug) -> None:
    session = debug(BEFORE, breakpoints=("second",))
    session.pause("second")
    other = _reload(engine, BEFORE.replace("id: edit", "id: other"))
    try:
        session.handle.update_flow(other)
    except ValueError as exc:
        assert "another flow" in str(exc)
    else:
        raise AssertionError("another flow must be refused")
    session.send(DebugCommand.CONTINUE)
    assert session.finish().state == "SUCCESS"


def test_an_edit_while_paused_shows_the_paused_task_as_it_now_renders(engine: Engine, debug) -> None:
    session = debug(BEFORE, breakpoints=("second",))
    before = session.pause("second")
    assert before.properties == {"format": "old second"}
    session.handle.update_flow(_reload(engine, AFTER))
    after = session.handle.paused
    assert after is not None and after.task_run_id == before.task_run_id
    assert after.properties == {"format": "new second after one"}
    assert "new second" in after.source
    republished = [p for p in session.pauses() if p.task_id == "second"]
    assert len(republished) == 2
    session.send(DebugCommand.CONTINUE)
    assert session.finish().state == "SUCCESS"
