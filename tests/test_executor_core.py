"""The executor and Kestra's core tasks, on real runs with history on."""

from __future__ import annotations

import threading
import time

from engine.core.events import ExecutionChanged, LogLine, PausedAtTask, TaskRunChanged
from engine.core.states import State

HEADER = "id: t\nnamespace: company.team\n"


def test_log_return_and_output_values_pass_outputs_between_tasks(engine):
    result = engine.run(HEADER + """
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name | upper }}"
  - id: vals
    type: io.kestra.plugin.core.output.OutputValues
    values:
      greeting: "hello {{ outputs.ret.value }}"
      n: 3
  - id: log
    type: io.kestra.plugin.core.log.Log
    message:
      - "first {{ outputs.vals.values.greeting }}"
      - "second {{ outputs.vals.values.n + 1 }}"
outputs:
  - id: final
    type: STRING
    value: "{{ outputs.vals.values.greeting }}"
""")
    assert result.state == "SUCCESS"
    assert result.run_of("ret").outputs == {"value": "WORLD"}
    assert result.run_of("vals").outputs == {"values": {"greeting": "hello WORLD", "n": 3}}
    assert result.logs("log") == ["first hello WORLD", "second 4"]
    assert result.execution.outputs == {"final": "hello WORLD"}


def test_states_have_dated_histories_in_kestra_order(engine):
    result = engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    run = result.run_of("a")
    assert [h.state for h in run.histories] == [State.CREATED, State.RUNNING, State.SUCCESS]
    assert [h.state for h in result.execution.histories] == [State.CREATED, State.RUNNING, State.SUCCESS]
    assert run.histories[0].date <= run.histories[-1].date


def test_fail_task_fails_the_execution_and_stops_later_tasks(engine):
    result = engine.run(HEADER + """
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: ok
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "bad {{ flow.id }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
""")
    assert result.state == "FAILED"
    assert result.states() == {"before": "SUCCESS", "boom": "FAILED"}
    assert "bad t" in result.logs("boom")


def test_fail_with_false_condition_succeeds(engine):
    result = engine.run(HEADER + """
tasks:
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ 1 > 2 }}"
""")
    assert result.state == "SUCCESS"


def test_disabled_task_gets_no_task_run_and_run_if_false_is_skipped(engine):
    result = engine.run(HEADER + """
tasks:
  - id: off
    type: io.kestra.plugin.core.log.Log
    message: x
    disabled: true
  - id: skipped
    type: io.kestra.plugin.core.log.Log
    message: x
    runIf: "{{ 'false' }}"
  - id: runs
    type: io.kestra.plugin.core.log.Log
    message: x
    runIf: "yes"
""")
    assert result.states() == {"skipped": "SKIPPED", "runs": "SUCCESS"}
    assert result.state == "SUCCESS"


def test_allow_failure_turns_failure_into_warning_and_flow_goes_on(engine):
    result = engine.run(HEADER + """
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    allowFailure: true
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: still here
""")
    assert result.states() == {"boom": "WARNING", "after": "SUCCESS"}
    assert result.state == "WARNING"


def test_allow_warning_turns_warning_into_success(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wrap
    type: io.kestra.plugin.core.flow.AllowFailure
    allowWarning: true
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
""")
    assert result.states() == {"wrap": "SUCCESS", "boom": "FAILED"}
    assert result.state == "SUCCESS"


def test_allow_failure_flowable_continues_with_warning(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wrap
    type: io.kestra.plugin.core.flow.AllowFailure
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: on
""")
    assert result.states() == {"wrap": "WARNING", "boom": "FAILED", "next": "SUCCESS"}
    assert result.state == "WARNING"


def test_errors_branch_runs_after_failure_and_finally_always(engine):
    result = engine.run(HEADER + """
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
errors:
  - id: handle
    type: io.kestra.plugin.core.log.Log
    message: "handled {{ execution.id }}"
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: cleanup
""")
    assert result.states() == {"boom": "FAILED", "handle": "SUCCESS", "cleanup": "SUCCESS"}
    assert result.state == "FAILED"


def test_retry_constant_retries_until_max_attempt(engine):
    result = engine.run(HEADER + """
tasks:
  - id: flaky
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.05S
      maxAttempt: 3
""")
    assert result.run_of("flaky").attempts == 3
    assert result.state == "FAILED"


def test_retry_succeeding_attempt_with_warning_on_retry(engine, tmp_path):
    marker = tmp_path / "count"
    result = engine.run(HEADER + f"""
tasks:
  - id: flaky
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo x >> {marker}
      - test $(wc -l < {marker}) -ge 2
    retry:
      type: exponential
      interval: PT0.05S
      maxInterval: PT0.1S
      maxAttempt: 5
      warningOnRetry: true
""")
    assert result.run_of("flaky").attempts == 2
    assert result.run_of("flaky").state is State.WARNING


def test_timeout_kills_the_task_and_its_process_tree(engine):
    # engine.run waits 120 s at most: a timeout that waited for the sleep instead fails there
    result = engine.run(HEADER + """
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT0.5S
    commands:
      - sleep 600
""")
    assert result.run_of("slow").state is State.FAILED
    assert any("timed out" in line for line in result.logs("slow"))


def test_sequential_runs_children_in_order_with_parent_task_run(engine):
    result = engine.run(HEADER + """
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: one
        type: io.kestra.plugin.core.debug.Return
        format: "1"
      - id: two
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.one.value }}2"
""")
    seq = result.run_of("seq")
    assert result.run_of("one").parent_task_run_id == seq.id
    assert result.run_of("two").outputs == {"value": "12"}


def test_parallel_runs_children_concurrently(engine):
    result = engine.run(HEADER + """
tasks:
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: a
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.6"]
      - id: b
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.6"]
      - id: c
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.6"]
""")
    assert result.state == "SUCCESS"
    starts = [result.run_of(t).start_date for t in "abc"]
    ends = [result.run_of(t).end_date for t in "abc"]
    # All three were running at the same moment: each started before any ended.
    assert max(starts) < min(ends)


def test_parallel_concurrent_limit_serialises(engine):
    result = engine.run(HEADER + """
tasks:
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    concurrent: 1
    tasks:
      - id: a
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.2"]
      - id: b
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.2"]
""")
    a, b = result.run_of("a"), result.run_of("b")
    assert a.end_date <= b.start_date or b.end_date <= a.start_date


def test_if_uses_kestra_truthiness(engine):
    flow = HEADER + """
inputs:
  - id: v
    type: STRING
tasks:
  - id: cond
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.v }}"
    then:
      - id: yes
        type: io.kestra.plugin.core.log.Log
        message: then
    else:
      - id: no
        type: io.kestra.plugin.core.log.Log
        message: else
"""
    for value, branch in [("false", "no"), ("0", "no"), ("-0", "no"), ("FALSE", "no"),
                          ("true", "yes"), ("no", "yes"), ("1", "yes"), ("null", "yes")]:
        result = engine.run(flow, {"v": value})
        ran = {r.task_id for r in result.task_runs} - {"cond"}
        assert ran == {branch}, value


def test_switch_picks_case_or_defaults_and_outputs_value(engine):
    flow = HEADER + """
inputs:
  - id: v
    type: STRING
tasks:
  - id: sw
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.v }}"
    cases:
      A:
        - id: a
          type: io.kestra.plugin.core.log.Log
          message: a
    defaults:
      - id: d
        type: io.kestra.plugin.core.log.Log
        message: d
"""
    result = engine.run(flow, {"v": "A"})
    assert {r.task_id for r in result.task_runs} == {"sw", "a"}
    assert result.run_of("sw").outputs == {"value": "A", "defaults": False}
    result = engine.run(flow, {"v": "Z"})
    assert {r.task_id for r in result.task_runs} == {"sw", "d"}


def test_for_each_outputs_are_keyed_by_value(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}-{{ parent.taskrun.value ?? 'none' }}"
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.inner[taskrun.value].value }}!"
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.inner['b'].value }}"
""")
    assert result.state == "SUCCESS"
    assert [r.value for r in result.runs_of("inner")] == ["a", "b", "c"]
    assert result.run_of("read").outputs["value"] == "b-none"
    assert sorted(r.outputs["value"] for r in result.runs_of("after")) == ["a-none!", "b-none!", "c-none!"]
    each = result.run_of("each")
    assert all(r.parent_task_run_id == each.id for r in result.runs_of("inner"))


def test_for_each_accepts_json_string_and_objects(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: '[{"k": 1}, 2]'
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
""")
    assert [r.outputs["value"] for r in result.runs_of("inner")] == ['{"k":1}', "2"]


def test_for_each_concurrency_limit_runs_iterations_together(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["1", "2", "3"]
    concurrencyLimit: 0
    tasks:
      - id: nap
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["sleep 0.5"]
""")
    runs = result.runs_of("nap")
    assert max(r.start_date for r in runs) < min(r.end_date for r in runs)


def test_nested_for_each_outputs_nest_by_values(engine):
    result = engine.run(HEADER + """
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["1", "2"]
        tasks:
          - id: leaf
            type: io.kestra.plugin.core.debug.Return
            format: "{{ parents[0].taskrun.value }}{{ taskrun.value }}"
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.leaf['y']['2'].value }}"
""")
    assert result.run_of("read").outputs["value"] == "y2"


def test_pause_waits_until_resumed(engine):
    flow = engine.load(HEADER + """
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
""")
    from engine.execution.executor import Executor

    executor = Executor(engine.runtime)
    paused = threading.Event()
    executor.bus.subscribe(lambda e: paused.set() if isinstance(e, PausedAtTask) else None)
    handle = executor.start(executor.prepare(flow))
    assert paused.wait(60)
    assert handle.execution.state is State.PAUSED
    time.sleep(0.1)
    assert not handle.done
    handle.resume()
    execution = handle.wait(60)
    assert execution.state is State.SUCCESS
    assert [h.state for h in execution.histories] == [State.CREATED, State.RUNNING, State.PAUSED,
                                                      State.RUNNING, State.SUCCESS]


def test_pause_duration_resumes_by_itself(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT0.2S
""")
    assert result.state == "SUCCESS"


def test_a_task_allowed_before_the_cancel_is_stopped_by_it_even_if_it_starts_after():
    """A Parallel branch slow to start (a busy machine) registers after the cancel has stopped
    the running tasks: its stop is set as it registers, or its process would run to the end.
    A flow's ``finally`` task, allowed after the cancel, runs."""
    from engine.core.events import EventBus
    from engine.core.records import Execution
    from engine.execution.run_state import RunState
    from engine.store.secrets import Masker

    state = RunState(Execution("e1", "company.team", "f"), EventBus(), Masker())
    running, late = threading.Event(), threading.Event()
    assert state.may_start()
    state.task_started(running)
    assert state.may_start()  # the branch is allowed...
    state.request_cancel()
    state.stop_running_tasks()
    state.task_started(late)  # ...and starts once the cancel has come
    assert running.is_set() and late.is_set()
    assert not state.may_start()
    cleanup = threading.Event()
    assert state.may_start(even_if_cancelled=True)
    state.task_started(cleanup)
    assert not cleanup.is_set()


def test_finally_runs_after_a_cancel(engine):
    flow = engine.load(HEADER + """
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo go", "sleep 600"]
finally:
  - id: cleanup
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo cleaned"]
""")
    from engine.execution.executor import Executor

    executor = Executor(engine.runtime)
    going = threading.Event()
    logs: list[tuple[str | None, str]] = []

    def seen(event: object) -> None:
        if isinstance(event, LogLine):
            logs.append((event.task_id, event.message))
            if (event.task_id, event.message) == ("slow", "go"):
                going.set()

    executor.bus.subscribe(seen)
    handle = executor.start(executor.prepare(flow))
    assert going.wait(60)
    handle.cancel()
    execution = handle.wait(90)
    assert handle.done and execution.state is State.KILLED
    assert {r.task_id: r.state for r in handle.task_runs()} == {"slow": State.KILLED,
                                                                "cleanup": State.SUCCESS}
    assert ("cleanup", "cleaned") in logs


def test_cancel_kills_running_task_and_execution(engine):
    flow = engine.load(HEADER + """
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["sleep 600"]
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: x
""")
    from engine.execution.executor import Executor

    executor = Executor(engine.runtime)
    running = threading.Event()
    executor.bus.subscribe(lambda e: running.set() if hasattr(e, "task_run") and e.task_run.task_id == "slow"
                           and e.task_run.state is State.RUNNING else None)
    handle = executor.start(executor.prepare(flow))
    assert running.wait(60)
    time.sleep(0.2)
    handle.cancel()
    execution = handle.wait(90)  # a cancel that waited for the sleep instead fails here
    assert handle.done
    assert execution.state is State.KILLED
    assert {r.task_id: r.state for r in handle.task_runs()} == {"slow": State.KILLED}


def test_template_error_names_task_and_property(engine):
    result = engine.run(HEADER + """
tasks:
  - id: bad
    type: io.kestra.plugin.core.log.Log
    message: "{{ nope.value }}"
""")
    assert result.state == "FAILED"
    assert any("task 'bad' property 'message'" in line and "nope" in line for line in result.logs("bad"))


def test_flow_output_render_error_fails_the_execution(engine):
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: x
outputs:
  - id: o
    type: STRING
    value: "{{ outputs.missing.value }}"
""")
    assert result.state == "FAILED"


def test_execution_events_are_published_in_order(engine):
    result = engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    states = [e.execution.state for e in result.events if isinstance(e, ExecutionChanged)]
    assert states == [State.CREATED, State.RUNNING, State.SUCCESS]


def _task_run_events(result, task_id):
    return [e.task_run for e in result.events if isinstance(e, TaskRunChanged) and e.task_run.task_id == task_id]


def test_a_task_that_starts_at_once_is_announced_running_with_its_created_entry(engine):
    result = engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    first = _task_run_events(result, "a")[0]
    assert first.state is State.RUNNING
    assert [h.state for h in first.histories] == [State.CREATED, State.RUNNING]


def test_a_task_with_run_if_is_announced_created_before_its_condition_is_rendered(engine):
    result = engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                                 "    message: x\n    runIf: \"{{ false }}\"\n")
    assert [r.state for r in _task_run_events(result, "a")] == [State.CREATED, State.SKIPPED]


def test_the_runner_name_goes_out_with_the_task_runs_end(engine):
    result = engine.run(HEADER + "tasks:\n  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                                 "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"
                                 "    commands: [\"true\"]\n")
    runs = _task_run_events(result, "sh")
    assert runs[-1].state is State.SUCCESS
    assert [r.runner for r in runs] == [None] * (len(runs) - 1) + ["process"]


def test_trigger_variables_are_available(engine):
    result = engine.run(HEADER + """
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.objects | jq('.[].key') | first }}"
""", trigger={"objects": [{"key": "raw/a.csv"}]})
    assert result.run_of("r").outputs["value"] == "raw/a.csv"


def test_envs_expose_prefixed_environment_variables(tmp_path):
    from tests.conftest import Engine

    engine = Engine(tmp_path / "h", tmp_path, environ={"ENV_REGION": "eu", "KESTRA_MODE": "dev", "OTHER": "x"})
    try:
        result = engine.run(HEADER + """
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ envs.region }}-{{ envs.mode }}"
""")
        assert result.run_of("r").outputs["value"] == "eu-dev"
    finally:
        engine.close()
