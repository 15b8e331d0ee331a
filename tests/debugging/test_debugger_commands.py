"""Breakpoints and stepping in the engine: every command a paused execution takes."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

from engine.core.debug import DebugCommand
from engine.core.states import State
from engine.execution.expression_eval import EvaluationError, evaluate_finished
from tests.conftest import Engine, leftover_processes

THREE = """
id: three
namespace: dev.debug
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one"
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }} two"
  - id: third
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.value }} three"
"""


def test_a_breakpoint_pauses_before_its_task_with_execution_and_task_run_paused(debug) -> None:
    session = debug(THREE, breakpoints=("second",))
    pause = session.pause("second")
    runs = {r.task_id: r for r in session.handle.task_runs()}
    assert session.handle.execution.state is State.PAUSED
    assert runs["second"].state is State.PAUSED
    assert runs["first"].state is State.SUCCESS
    assert "third" not in runs
    assert pause.reason == "breakpoint"
    assert pause.properties == {"format": "one two"}
    assert pause.source.splitlines()[0].strip() == "- id: second"
    assert pause.source_line == 8
    assert pause.variables["outputs"] == {"first": {"value": "one"}}
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.state == "SUCCESS"
    assert [h.state for h in result.run_of("second").histories][:3] == [State.CREATED, State.PAUSED,
                                                                        State.RUNNING]
    assert len(session.pauses()) == 1


def test_next_runs_one_task_and_pauses_before_the_following_one(debug) -> None:
    session = debug(THREE, breakpoints=("first",))
    session.send(DebugCommand.NEXT, "first")
    pause = session.pause("second")
    assert pause.reason == "step"
    assert {r.task_id: r.state.value for r in session.handle.task_runs()} == {
        "first": "SUCCESS", "second": "PAUSED"}
    session.send(DebugCommand.NEXT, "second")
    session.send(DebugCommand.NEXT, "third")
    result = session.finish()
    assert result.states() == {"first": "SUCCESS", "second": "SUCCESS", "third": "SUCCESS"}
    assert [p.task_id for p in session.pauses()] == ["first", "second", "third"]


def test_step_mode_pauses_before_every_task_and_continue_runs_to_the_end(debug) -> None:
    session = debug(THREE, step=True)
    session.send(DebugCommand.NEXT, "first")
    session.send(DebugCommand.CONTINUE, "second")
    result = session.finish()
    assert result.state == "SUCCESS"
    assert [p.task_id for p in session.pauses()] == ["first", "second"]
    assert result.run_of("third").outputs == {"value": "one two three"}


def test_skip_marks_the_task_skipped_and_pauses_before_the_next(debug) -> None:
    session = debug(THREE, breakpoints=("second",))
    session.send(DebugCommand.SKIP, "second")
    pause = session.pause("third")
    assert pause.property_errors["format"].startswith("Missing variable: 'second'") or \
        "second" in pause.property_errors["format"]
    session.send(DebugCommand.SKIP, "third")
    result = session.finish()
    assert result.states() == {"first": "SUCCESS", "second": "SKIPPED", "third": "SKIPPED"}
    assert result.state == "SUCCESS"
    assert "task 'second' skipped from the debugger" in result.logs("second")


def test_abort_kills_the_execution_without_running_the_task(debug) -> None:
    session = debug(THREE, breakpoints=("second",))
    session.send(DebugCommand.ABORT, "second")
    result = session.finish()
    assert result.state == "KILLED"
    assert result.states() == {"first": "SUCCESS", "second": "KILLED"}


def test_cancel_while_paused_ends_the_execution(debug) -> None:
    """A pause waits for its answer for ever: a cancel that did not reach it never finishes."""
    session = debug(THREE, breakpoints=("second",))
    session.pause("second")
    session.handle.cancel()
    result = session.finish()
    assert result.state == "KILLED"
    assert result.states() == {"first": "SUCCESS", "second": "KILLED"}


def test_a_command_with_nothing_paused_is_refused(debug) -> None:
    session = debug(THREE)
    session.finish()
    assert not session.handle.command(DebugCommand.NEXT)


def test_rerun_runs_the_last_finished_task_again_and_pauses_again(debug) -> None:
    session = debug(THREE, breakpoints=("second",))
    pause = session.pause("second")
    assert pause.previous_task_id == "first"
    session.send(DebugCommand.RERUN, "second")
    again = session.pause("second")
    assert again.task_run_id == pause.task_run_id
    assert len([r for r in session.handle.task_runs() if r.task_id == "first"]) == 2
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.state == "SUCCESS"
    assert [r.state.value for r in result.runs_of("first")] == ["SUCCESS", "SUCCESS"]
    assert "re-running task 'first'" in result.logs()


def test_evaluate_while_paused_sees_the_paused_task_and_outputs_so_far(debug) -> None:
    session = debug(THREE, breakpoints=("third",))
    session.pause("third")
    assert session.handle.evaluate("outputs.second.value") == "one two"
    assert session.handle.evaluate("task.id") == "third"
    assert session.handle.evaluate("{{ outputs.first.value | upper }}!") == "ONE!"
    try:
        session.handle.evaluate("outputs.nope.value")
    except EvaluationError as exc:
        assert "nope" in exc.message
    else:
        raise AssertionError("an unknown output must be an error")
    try:
        session.handle.evaluate("outputs.first.value +")
    except EvaluationError as exc:
        assert exc.message
    else:
        raise AssertionError("a syntax error must be an error")
    session.send(DebugCommand.CONTINUE)
    session.finish()


def test_evaluate_after_the_run_uses_the_recorded_execution(engine: Engine) -> None:
    result = engine.run(THREE)
    engine.runtime.history.flush()
    execution = engine.runtime.history.get_execution(result.execution.id)
    task_runs = engine.runtime.history.task_runs(execution.id)
    value = evaluate_finished(engine.runtime, execution, task_runs, None, "outputs.third.value")
    assert value == "one two three"
    assert evaluate_finished(engine.runtime, execution, task_runs, None,
                             "{{ execution.state }}") == "SUCCESS"


def test_secrets_are_masked_in_rendered_properties_variables_and_evaluation(tmp_path: Path) -> None:
    environ = dict(os.environ, SECRET_TOKEN=base64.b64encode(b"hunter2-very-secret").decode())
    engine = Engine(tmp_path / "home", tmp_path, environ)
    try:
        from tests.debugging.conftest import start

        session = start(engine, """
            id: secretive
            namespace: dev.debug
            tasks:
              - id: use
                type: io.kestra.plugin.core.log.Log
                message: "token={{ secret('TOKEN') }}"
            """, breakpoints=("use",))
        pause = session.pause("use")
        assert "hunter2" not in repr(pause)
        assert pause.properties["message"].startswith("token=*")
        assert "hunter2" not in str(session.handle.evaluate("secret('TOKEN')"))
        session.send(DebugCommand.CONTINUE)
        session.finish()
    finally:
        engine.close()


def test_a_property_that_fails_to_render_is_shown_as_an_error_not_a_failure(debug) -> None:
    session = debug("""
        id: broken
        namespace: dev.debug
        tasks:
          - id: only
            type: io.kestra.plugin.core.log.Log
            message: "{{ inputs.missing }}"
        """, breakpoints=("only",))
    pause = session.pause("only")
    assert "missing" in pause.property_errors["message"]
    assert session.handle.execution.state is State.PAUSED
    session.send(DebugCommand.CONTINUE)
    assert session.finish().state == "FAILED"


WORKDIR = """
id: workdir
namespace: dev.debug
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: write
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - echo hello > greeting.txt
      - id: read
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - cat greeting.txt
          - test -f from_shell.txt
"""


def test_a_breakpoint_inside_a_working_directory_shows_the_live_directory(debug) -> None:
    session = debug(WORKDIR, breakpoints=("read",))
    pause = session.pause("read")
    assert pause.working_dir is not None
    directory = Path(pause.working_dir)
    assert (directory / "greeting.txt").read_text() == "hello\n"
    # What a user does in the shell (`!`) while paused: the next task sees it.
    (directory / "from_shell.txt").write_text("made while paused\n")
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.states() == {"wd": "SUCCESS", "write": "SUCCESS", "read": "SUCCESS"}
    assert "hello" in result.logs("read")


FOREACH = """
id: loop
namespace: dev.debug
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "v={{ taskrun.value }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: done
"""


def test_a_breakpoint_inside_foreach_pauses_once_per_iteration_with_its_value(debug) -> None:
    session = debug(FOREACH, breakpoints=("inner",))
    seen = []
    for _ in range(3):
        pause = session.pause("inner")
        seen.append(pause.properties["format"])
        session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert seen == ["v=a", "v=b", "v=c"]
    assert result.state == "SUCCESS"


def test_skipping_one_foreach_iteration_leaves_the_others_running(debug) -> None:
    session = debug(FOREACH, breakpoints=("inner",))
    session.send(DebugCommand.SKIP, "inner")
    session.pause("inner")
    session.handle.debugger.set_breakpoints(())
    session.send(DebugCommand.CONTINUE)
    result = session.finish()
    assert result.states() == {"each": "SUCCESS", "inner[a]": "SKIPPED", "inner[b]": "SUCCESS",
                               "inner[c]": "SUCCESS", "after": "SUCCESS"}


PARALLEL = """
id: fan
namespace: dev.debug
tasks:
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.debug.Return
        format: L
      - id: middle
        type: io.kestra.plugin.core.debug.Return
        format: M
      - id: right
        type: io.kestra.plugin.core.debug.Return
        format: R
"""


def test_parallel_branches_pause_one_at_a_time(debug) -> None:
    session = debug(PARALLEL, breakpoints=("left", "middle", "right"))
    answered = []
    for _ in range(3):
        pause = session.pause()
        time.sleep(0.05)  # the other branches are at the gate meanwhile: still one pause only
        paused_runs = [r for r in session.handle.task_runs() if r.state is State.PAUSED]
        assert [r.id for r in paused_runs] == [pause.task_run_id]
        answered.append(pause.task_id)
        session.send(DebugCommand.SKIP if pause.task_id == "middle" else DebugCommand.NEXT)
    result = session.finish()
    assert sorted(answered) == ["left", "middle", "right"]
    assert result.states() == {"par": "SUCCESS", "left": "SUCCESS", "middle": "SKIPPED", "right": "SUCCESS"}


def test_continue_in_parallel_lets_the_other_branches_through_without_pausing(debug) -> None:
    session = debug(PARALLEL, step=True)
    session.send(DebugCommand.CONTINUE, "par")
    result = session.finish()
    assert [p.task_id for p in session.pauses()] == ["par"]
    assert result.state == "SUCCESS"


def test_abort_while_a_script_waits_at_a_breakpoint_leaves_no_process(debug) -> None:
    marker = f"roost-debug-abort-{os.getpid()}-{time.monotonic_ns()}"
    session = debug(f"""
        id: sleeper
        namespace: dev.debug
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: long
                type: io.kestra.plugin.scripts.shell.Commands
                taskRunner:
                  type: io.kestra.plugin.core.runner.Process
                env:
                  ROOST_TEST_MARKER: "{marker}"
                commands:
                  - sleep 600
              - id: waits
                type: io.kestra.plugin.core.log.Log
                message: hi
        """, breakpoints=("waits",))
    session.pause("waits")
    session.send(DebugCommand.ABORT)
    result = session.finish()  # waiting for the sleep instead of killing it fails here
    assert result.state == "KILLED"
    assert leftover_processes("ROOST_TEST_MARKER", marker) == []
