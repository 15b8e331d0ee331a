"""Execution semantics Kestra's own tests pin (PauseTest, RetryCaseTest, SwitchTest,
EachSequentialTest, InputsTest, FlowOutputTest...), each on a flow of our own."""

from __future__ import annotations

import threading
from typing import Any

from engine.core.events import PausedAtTask
from engine.core.states import State
from engine.execution.executor import Executor

HEADER = "id: semantics\nnamespace: company.team\n"


def _history(result: Any, task_id: str) -> list[State]:
    return [h.state for h in result.run_of(task_id).histories]


def _run_and_resume(engine: Any, text: str, inputs: dict[str, Any] | None = None) -> Any:
    """Start a flow, wait for its Pause, resume it with `inputs`; the finished handle."""
    flow = engine.load(HEADER + text)
    executor = Executor(engine.runtime)
    paused = threading.Event()
    executor.bus.subscribe(lambda e: paused.set() if isinstance(e, PausedAtTask) else None)
    handle = executor.start(executor.prepare(flow))
    assert paused.wait(30)
    handle.resume(inputs)
    handle.wait(60)
    assert handle.done
    return handle


# --- Pause (PauseTest) ---------------------------------------------------------------------

def test_pause_timeout_fails_the_pause_without_running_its_tasks(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT0.1S
    tasks:
      - id: inside
        type: io.kestra.plugin.core.log.Log
        message: never
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never either
""")
    assert result.state == "FAILED"
    assert [r.task_id for r in result.task_runs] == ["gate"]
    # Kestra: one RUNNING, one PAUSED, one FAILED; no RUNNING after the pause.
    assert _history(result, "gate") == [State.CREATED, State.RUNNING, State.PAUSED, State.FAILED]
    assert any("not resumed within 0.1s" in line for line in result.logs("gate", "ERROR"))


def test_pause_delay_resumes_by_itself_then_runs_its_tasks(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    delay: PT0.1S
    tasks:
      - id: inside
        type: io.kestra.plugin.core.log.Log
        message: resumed
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ task.id }}"
""")
    assert result.state == "SUCCESS"
    assert len(result.task_runs) == 3
    assert _history(result, "gate") == [State.CREATED, State.RUNNING, State.PAUSED,
                                        State.RUNNING, State.SUCCESS]


def test_pause_delay_reads_a_duration_input(engine):
    result = engine.run(HEADER + """
inputs:
  - id: wait
    type: DURATION
    defaults: PT0.1S
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    delay: "{{ inputs.wait }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: done
""")
    assert result.state == "SUCCESS"
    assert _history(result, "gate").count(State.PAUSED) == 1


def test_pause_duration_given_as_an_iso_string_template(engine):
    result = engine.run(HEADER + """
inputs:
  - id: seconds
    type: STRING
    defaults: "0.1"
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: "PT{{ inputs.seconds }}S"
""")
    assert result.state == "SUCCESS"


def test_pause_behavior_warn_ends_the_pause_in_warning_and_goes_on(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.1S
    behavior: WARN
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: went on
""")
    assert result.states() == {"gate": "WARNING", "after": "SUCCESS"}
    assert result.state == "WARNING"
    assert _history(result, "gate") == [State.CREATED, State.RUNNING, State.PAUSED, State.WARNING]


def test_pause_behavior_fail_fails_the_pause_after_its_duration(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.1S
    behavior: FAIL
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
errors:
  - id: handled
    type: io.kestra.plugin.core.log.Log
    message: the pause failed
""")
    assert result.states() == {"gate": "FAILED", "handled": "SUCCESS"}
    assert result.state == "FAILED"


def test_pause_behavior_cancel_ends_the_execution(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.1S
    behavior: CANCEL
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
""")
    assert result.states() == {"gate": "KILLED"}
    assert result.state == "KILLED"


def test_pause_behavior_resume_is_the_default_after_its_duration(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.1S
""")
    assert result.states() == {"gate": "SUCCESS"}
    assert _history(result, "gate")[-2:] == [State.RUNNING, State.SUCCESS]


ON_RESUME = """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: asked
        type: STRING
      - id: count
        type: INT
        defaults: 2
      - id: note
        type: STRING
        required: false
  - id: last
    type: io.kestra.plugin.core.output.OutputValues
    values:
      asked: "{{ outputs.gate.onResume.asked }}"
      count: "{{ outputs.gate.onResume.count + 1 }}"
      note: "{{ outputs.gate.onResume.note ?? 'MISSING' }}"
"""


def test_pause_on_resume_inputs_become_its_outputs(engine):
    handle = _run_and_resume(engine, ON_RESUME, {"asked": "restarted"})
    assert handle.execution.state is State.SUCCESS
    runs = {r.task_id: r for r in handle.task_runs()}
    assert runs["gate"].outputs == {"onResume": {"asked": "restarted", "count": 2, "note": None}}
    assert runs["last"].outputs["values"] == {"asked": "restarted", "count": "3", "note": "MISSING"}


def test_pause_on_resume_without_a_required_input_fails_naming_it(engine):
    handle = _run_and_resume(engine, ON_RESUME, None)
    runs = {r.task_id: r for r in handle.task_runs()}
    assert runs["gate"].state is State.FAILED
    assert "last" not in runs
    assert handle.execution.state is State.FAILED


# --- retries (RetryCaseTest) -----------------------------------------------------------------

def test_attempts_count_is_zero_on_the_first_attempt_so_retry_success_warns_after_four(engine):
    result = engine.run(HEADER + """
tasks:
  - id: flaky
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 3 ? 'fourth attempt' : undefinedVariable }}"
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 4
      warningOnRetry: true
""")
    assert result.state == "WARNING"
    assert result.run_of("flaky").attempts == 4
    assert result.logs("flaky")[-1] == "fourth attempt"


def test_retry_on_a_flowable_retries_its_failed_child(engine):
    result = engine.run(HEADER + """
tasks:
  - id: block
    type: io.kestra.plugin.core.flow.Sequential
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 3
    tasks:
      - id: child
        type: io.kestra.plugin.core.execution.Fail
""")
    assert result.state == "FAILED"
    assert result.run_of("child").attempts == 3     # the child carries the attempts...
    assert result.run_of("block").attempts == 1     # ...the flowable runs once


def test_retry_on_a_flowable_reaches_children_of_nested_flowables(engine):
    result = engine.run(HEADER + """
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Sequential
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 2
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: child
            type: io.kestra.plugin.core.execution.Fail
""")
    assert result.run_of("child").attempts == 2
    assert len(result.runs_of("inner")) == 1


def test_retry_on_foreach_retries_every_value(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 0
    values: [0, 1]
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 3
    tasks:
      - id: child
        type: io.kestra.plugin.core.execution.Fail
""")
    assert result.state == "FAILED"
    assert sorted((r.value, r.attempts) for r in result.runs_of("child")) == [("0", 3), ("1", 3)]


def test_a_child_retry_wins_over_its_flowable_retry(engine):
    result = engine.run(HEADER + """
tasks:
  - id: block
    type: io.kestra.plugin.core.flow.Sequential
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 4
    tasks:
      - id: child
        type: io.kestra.plugin.core.execution.Fail
        retry:
          type: constant
          interval: PT0.01S
          maxAttempt: 2
""")
    assert result.run_of("child").attempts == 2


# --- Switch and ForEach (SwitchTest, EachSequentialTest) -------------------------------------

def test_switch_without_a_matching_case_or_defaults_fails(engine):
    result = engine.run(HEADER + """
inputs:
  - id: choice
    type: STRING
tasks:
  - id: route
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.choice }}"
    cases:
      "A":
        - id: a
          type: io.kestra.plugin.core.log.Log
          message: a
""", {"choice": "Z"})
    assert result.state == "FAILED"
    assert result.states() == {"route": "FAILED"}
    assert result.run_of("route").outputs == {"value": "Z", "defaults": True}
    assert any(line.startswith("No task found on flow 'company.team.semantics', task 'route'")
               for line in result.logs("route", "WARN"))
    assert any("value 'Z' matches no case" in line for line in result.logs("route", "ERROR"))


def test_foreach_values_with_a_null_fail_with_kestras_message(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: '[7, null, {"k": "v"}]'
    tasks:
      - id: child
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
""")
    assert result.state == "FAILED"
    assert [r.task_id for r in result.task_runs] == ["each"]
    assert any("Found '1' null values on Each, with values=[7, null, {k=v}]" in line
               for line in result.logs("each", "ERROR"))


def test_foreach_runs_each_distinct_value_once(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "a"]
    tasks:
      - id: child
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
""")
    assert [r.value for r in result.runs_of("child")] == ["a", "b"]


# --- inputs and outputs (InputsTest, FlowOutputTest) ---------------------------------------

def test_undeclared_input_is_ignored_with_a_warning_naming_the_closest(engine):
    result = engine.run(HEADER + """
inputs:
  - id: size
    type: INT
    defaults: 1
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.size }}"
""", {"sise": "5"})
    assert result.state == "SUCCESS"
    assert result.execution.inputs == {"size": 1}
    assert result.run_of("show").outputs == {"value": "1"}
    assert ("input 'sise' is not declared by the flow and is ignored; did you mean 'size'?"
            in result.logs(None, "WARN"))


TYPED_OUTPUTS = """
tasks:
  - id: sum
    type: io.kestra.plugin.core.debug.Return
    format: "{{ 50 + 5 }}"
outputs:
  - id: total
    type: INT
    value: "{{ outputs.sum.value }}"
  - id: ratio
    type: FLOAT
    value: "2.5"
  - id: ok
    type: BOOLEAN
    value: "{{ outputs.sum.value == '55' }}"
  - id: doc
    type: JSON
    value: '{"n": {{ outputs.sum.value }}}'
  - id: text
    type: STRING
    value: "{{ outputs.sum.value }}"
"""


def test_typed_flow_outputs_carry_their_type_into_the_execution_and_history(engine):
    result = engine.run(HEADER + TYPED_OUTPUTS)
    assert result.state == "SUCCESS"
    expected = {"total": 55, "ratio": 2.5, "ok": True, "doc": {"n": 55}, "text": "55"}
    assert result.execution.outputs == expected
    engine.runtime.history.flush(5)
    stored = engine.runtime.history.get_execution(result.execution.id)
    assert stored is not None and stored.outputs == expected


def test_a_flow_output_not_of_its_type_fails_the_execution_naming_it(engine):
    result = engine.run(HEADER + """
tasks:
  - id: word
    type: io.kestra.plugin.core.debug.Return
    format: many
outputs:
  - id: word
    type: STRING
    value: "{{ outputs.word.value }}"
  - id: count
    type: INT
    value: "{{ outputs.word.value }}"
""")
    assert result.state == "FAILED"
    assert result.execution.outputs == {}   # none kept, not even the ones before it
    assert ("flow output 'count': declared type INT: 'many' is not an integer"
            in result.logs(None, "ERROR"))


# --- script tasks ------------------------------------------------------------------------------

def test_script_tasks_take_kestras_target_os_and_the_old_spelling(engine):
    for key in ("targetOS", "targetOs"):
        flow = engine.load(HEADER + f"""
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    {key}: LINUX
    commands: ["echo hi"]
""")
        assert flow.tasks[0].id == "sh"


def test_roost_run_json_prints_an_int_flow_output_as_a_number(tmp_path, monkeypatch, capsys):
    import json

    from engine.cli.main import main

    flow = tmp_path / "typed.yml"
    flow.write_text(HEADER + TYPED_OUTPUTS)
    monkeypatch.setenv("ROOST_HOME", str(tmp_path / "home"))
    assert main(["run", str(flow), "--json"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed)["outputs"]["total"] == 55
    assert '"total": 55' in printed


def test_pause_that_resumes_by_itself_gives_its_on_resume_defaults(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.1S
    onResume:
      - id: approved
        type: BOOLEAN
        defaults: true
      - id: reason
        type: STRING
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.gate.onResume.approved }} {{ outputs.gate.onResume.reason ?? 'none' }}"
""")
    assert result.state == "SUCCESS"
    assert result.run_of("after").outputs == {"value": "true none"}


def test_task_run_json_lists_the_failed_attempts_before_the_last(engine):
    result = engine.run(HEADER + """
tasks:
  - id: flaky
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 1 ? 'second' : undefinedVariable }}"
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 3
""")
    attempts = result.run_of("flaky").to_json()["attempts"]
    assert [a["state"]["current"] for a in attempts] == ["FAILED", "SUCCESS"]


def test_retry_creating_new_executions_says_it_retries_in_place(engine):
    result = engine.run(HEADER + """
tasks:
  - id: flaky
    type: io.kestra.plugin.core.execution.Fail
    retry:
      behavior: CREATE_NEW_EXECUTION
      type: constant
      interval: PT0.01S
      maxAttempt: 2
""")
    assert result.run_of("flaky").attempts == 2
    assert any("CREATE_NEW_EXECUTION" in line for line in result.logs("flaky", "WARN"))


def test_pause_timeout_shorter_than_its_duration_fails_it(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT30S
    timeout: PT0.1S
""")
    assert result.states() == {"gate": "FAILED"}


def test_pause_timeout_with_allow_failure_warns_and_goes_on(engine):
    result = engine.run(HEADER + """
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT0.1S
    allowFailure: true
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: went on
""")
    assert result.states() == {"gate": "WARNING", "after": "SUCCESS"}
    assert result.state == "WARNING"
