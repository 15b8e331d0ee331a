"""Kestra's execution tasks: Labels, Resume, Count, Exit, Assert, PurgeExecutions (and Echo's name)."""

from __future__ import annotations

import threading

import pytest

from engine.core.errors import InvalidFlowError
from engine.core.events import Event, PausedAtTask
from engine.core.states import State
from engine.execution.executor import Executor
from tests.conftest import Engine


def test_echo_runs_under_its_current_kestra_name(engine: Engine) -> None:
    result = engine.run("""
        id: echo
        namespace: roost.tests
        tasks:
          - id: say
            type: io.kestra.plugin.core.debug.Echo
            format: "hello {{ flow.id }}"
    """)
    assert result.state == "SUCCESS"
    assert result.logs("say") == ["hello echo"]


# --- Labels ------------------------------------------------------------------------------------
def test_labels_from_a_map_a_list_and_a_json_string_merge_into_the_execution(engine: Engine) -> None:
    result = engine.run("""
        id: labelled
        namespace: roost.tests
        labels:
          team: data
          stage: draft
        inputs:
          - id: extra
            type: JSON
        tasks:
          - id: from_json
            type: io.kestra.plugin.core.execution.Labels
            labels: "{{ inputs.extra }}"
          - id: from_map
            type: io.kestra.plugin.core.execution.Labels
            labels:
              "{{ 'ow' ~ 'ner' }}": "{{ flow.namespace }}"
          - id: from_list
            type: io.kestra.core.tasks.executions.Labels
            labels:
              - key: stage
                value: "{{ taskrun.id }}"
    """, {"extra": '{"color": "blue"}'})
    assert result.state == "SUCCESS"
    assert result.execution.labels == {"team": "data", "stage": result.run_of("from_list").id,
                                       "color": "blue", "owner": "roost.tests"}


def test_labels_are_seen_by_later_tasks_and_kept_in_history(engine: Engine) -> None:
    result = engine.run("""
        id: labels_seen
        namespace: roost.tests
        tasks:
          - id: tag
            type: io.kestra.plugin.core.execution.Labels
            labels:
              env: staging
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ labels.env }}"
    """)
    assert result.run_of("show").outputs["value"] == "staging"
    history = engine.runtime.history
    assert history is not None
    history.flush()
    stored = history.get_execution(result.execution.id)
    assert stored is not None and stored.labels == {"env": "staging"}


def test_labels_turn_primitive_values_into_strings(engine: Engine) -> None:
    result = engine.run("""
        id: primitive_labels
        namespace: roost.tests
        inputs:
          - id: number
            type: INT
          - id: ratio
            type: FLOAT
          - id: flag
            type: BOOLEAN
        tasks:
          - id: tag
            type: io.kestra.plugin.core.execution.Labels
            labels:
              number: "{{ inputs.number }}"
              ratio: "{{ inputs.ratio }}"
              flag: "{{ inputs.flag }}"
              literal: 7
    """, {"number": 42, "ratio": 3.14, "flag": True})
    assert result.state == "SUCCESS"
    assert result.execution.labels == {"number": "42", "ratio": "3.14", "flag": "true", "literal": "7"}


def test_labels_refuse_system_labels_with_kestras_message(engine: Engine) -> None:
    result = engine.run("""
        id: system_label
        namespace: roost.tests
        tasks:
          - id: tag
            type: io.kestra.plugin.core.execution.Labels
            labels:
              system.correlationId: mine
    """)
    assert result.state == "FAILED"
    assert result.logs("tag") == [
        "System labels can only be set by Kestra itself, offending label: system.correlationId=mine"]
    assert "system.correlationId" not in result.execution.labels


def test_labels_list_items_without_key_are_refused_at_load_time(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match=r"labels\[0\]' must be a map with 'key' and 'value'"):
        engine.load("""
            id: bad_labels
            namespace: roost.tests
            tasks:
              - id: tag
                type: io.kestra.plugin.core.execution.Labels
                labels:
                  - value: orphan
        """)


# --- Exit --------------------------------------------------------------------------------------
def test_exit_ends_the_execution_in_its_state_and_skips_the_tasks_after_it(engine: Engine) -> None:
    result = engine.run("""
        id: exits
        namespace: roost.tests
        tasks:
          - id: branch
            type: io.kestra.plugin.core.flow.If
            condition: "{{ true }}"
            then:
              - id: leave
                type: io.kestra.plugin.core.execution.Exit
                state: WARNING
          - id: after
            type: io.kestra.plugin.core.log.Log
            message: never
        finally:
          - id: cleanup
            type: io.kestra.plugin.core.log.Log
            message: never either
    """)
    assert result.state == "WARNING"
    assert result.states() == {"branch": "WARNING", "leave": "WARNING"}


def test_exit_failed_does_not_run_the_errors_branch(engine: Engine) -> None:
    result = engine.run("""
        id: exits_failed
        namespace: roost.tests
        tasks:
          - id: leave
            type: io.kestra.plugin.core.execution.Exit
            state: FAILED
        errors:
          - id: handler
            type: io.kestra.plugin.core.log.Log
            message: handled
    """)
    assert result.state == "FAILED"
    assert result.states() == {"leave": "FAILED"}


def test_exit_killed_stops_the_tasks_running_beside_it(engine: Engine) -> None:
    result = engine.run("""
        id: exits_killed
        namespace: roost.tests
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: long
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT60S
              - id: leave
                type: io.kestra.plugin.core.execution.Exit
                state: KILLED
    """)
    assert result.state == "KILLED"
    assert result.run_of("long").state is State.KILLED
    assert result.run_of("leave").state is State.KILLED


def test_exit_refuses_an_unknown_state_at_load_time(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="'state' must be one of SUCCESS, WARNING, KILLED, FAILED, CANCELED"):
        engine.load("""
            id: bad_exit
            namespace: roost.tests
            tasks:
              - id: leave
                type: io.kestra.plugin.core.execution.Exit
                state: DONE
        """)


# --- Assert ------------------------------------------------------------------------------------
def test_assert_passes_when_every_condition_is_truthy_and_counts_them(engine: Engine) -> None:
    result = engine.run("""
        id: asserts_ok
        namespace: roost.tests
        tasks:
          - id: check
            type: io.kestra.plugin.core.execution.Assert
            conditions:
              - "{{ 1 + 1 == 2 }}"
              - "{{ flow.id }}"
    """)
    assert result.state == "SUCCESS"
    metrics = {m["name"]: m["value"] for m in result.run_of("check").metrics}
    assert metrics == {"success": 2, "failed": 0}


def test_assert_fails_naming_each_failed_condition_and_adds_the_error_message(engine: Engine) -> None:
    result = engine.run("""
        id: asserts_ko
        namespace: roost.tests
        tasks:
          - id: check
            type: io.kestra.plugin.core.execution.Assert
            conditions:
              - "{{ 1 + 1 == 3 }}"
              - "{{ 'ok' == 'ok' }}"
              - "{{ 0 }}"
            errorMessage: "checked {{ flow.id }}"
    """)
    assert result.state == "FAILED"
    assert result.logs("check") == [
        "Assertion `{{ 1 + 1 == 3 }}` failed!",
        "Assertion `{{ 0 }}` failed!",
        "2 assertions failed!\nchecked asserts_ko",
    ]


def test_assert_counts_a_condition_that_cannot_render_as_failed(engine: Engine) -> None:
    result = engine.run("""
        id: asserts_render
        namespace: roost.tests
        tasks:
          - id: check
            type: io.kestra.plugin.core.execution.Assert
            conditions:
              - "{{ outputs.missing.value == 1 }}"
    """)
    assert result.state == "FAILED"
    logs = result.logs("check")
    assert logs[0].startswith("Assertion `{{ outputs.missing.value == 1 }}` failed, failed to render `")
    assert logs[-1] == "1 assertion failed!"


def test_assert_checks_script_outputs_as_plugin_scripts_sanity_flows_do(engine: Engine) -> None:
    result = engine.run("""
        id: sanity
        namespace: roost.tests
        tasks:
          - id: commands
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            outputFiles:
              - hello.txt
            commands:
              - echo hello > hello.txt
          - id: python_script_process
            type: io.kestra.plugin.scripts.python.Script
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            script: |
              print("Hello from a Process Task Runner")
          - id: check
            type: io.kestra.plugin.core.execution.Assert
            conditions:
              - "{{ outputs.commands.exitCode == 0 }}"
              - "{{ outputs.python_script_process.exitCode == 0 }}"
              - "{{ outputs.commands.outputFiles['hello.txt'] != null }}"
              - "{{ read(outputs.commands.outputFiles['hello.txt']) contains 'hello' }}"
    """)
    assert result.state == "SUCCESS", result.logs()
    assert {m["name"]: m["value"] for m in result.run_of("check").metrics} == {"success": 4, "failed": 0}


# --- Resume ------------------------------------------------------------------------------------
PAUSED_FLOW = """
    id: waits
    namespace: roost.tests
    tasks:
      - id: hold
        type: io.kestra.plugin.core.flow.Pause
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: resumed
"""


def _start_paused(engine: Engine) -> str:
    executor = Executor(engine.runtime)
    paused = threading.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, PausedAtTask):
            paused.set()

    executor.bus.subscribe(on_event)
    handle = executor.start(executor.prepare(engine.load(PAUSED_FLOW, "waits.yml")))
    assert paused.wait(30), "the paused flow never paused"
    return handle.execution_id


def test_resume_resumes_another_paused_execution_of_this_process(engine: Engine) -> None:
    paused_id = _start_paused(engine)
    result = engine.run("""
        id: resumer
        namespace: roost.tests
        inputs:
          - id: target
            type: STRING
        tasks:
          - id: wake
            type: io.kestra.plugin.core.execution.Resume
            executionId: "{{ inputs.target }}"
            namespace: roost.tests
            flowId: waits
    """, {"target": paused_id})
    assert result.state == "SUCCESS", result.logs()
    history = engine.runtime.history
    assert history is not None
    for _ in range(600):
        history.flush()
        stored = history.get_execution(paused_id)
        if stored is not None and stored.state.is_terminal:
            break
        threading.Event().wait(0.05)
    assert stored is not None and stored.state is State.SUCCESS


def test_resume_refuses_an_execution_of_another_flow_than_named(engine: Engine) -> None:
    paused_id = _start_paused(engine)
    result = engine.run("""
        id: resumer_wrong
        namespace: roost.tests
        inputs:
          - id: target
            type: STRING
        tasks:
          - id: wake
            type: io.kestra.plugin.core.execution.Resume
            executionId: "{{ inputs.target }}"
            namespace: roost.tests
            flowId: other
        errors:
          - id: release_anyway
            type: io.kestra.plugin.core.execution.Resume
            executionId: "{{ inputs.target }}"
    """, {"target": paused_id})
    assert result.state == "FAILED"
    assert result.logs("wake") == [f"task 'wake': execution {paused_id} is an execution of roost.tests.waits, "
                                   "not of roost.tests.other"]


def test_resume_defaults_to_the_current_execution_paused_in_a_parallel_branch(engine: Engine) -> None:
    result = engine.run("""
        id: self_resume
        namespace: roost.tests
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: hold
                type: io.kestra.plugin.core.flow.Pause
              - id: later
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: nap
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT0.1S
                  - id: wake
                    type: io.kestra.plugin.core.execution.Resume
                    retry:   # on a busy machine the Pause may not be waiting yet
                      type: constant
                      interval: PT0.1S
                      maxAttempts: 100
    """)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("hold").state is State.SUCCESS


def test_resume_of_an_execution_that_is_not_paused_fails_clearly(engine: Engine) -> None:
    result = engine.run("""
        id: resume_running
        namespace: roost.tests
        tasks:
          - id: wake
            type: io.kestra.plugin.core.execution.Resume
    """)
    assert result.state == "FAILED"
    assert result.logs("wake") == [f"task 'wake': execution '{result.execution.id}' is not paused "
                                   "(it is RUNNING), can't resume it"]


def test_resume_of_an_execution_not_running_in_this_process_says_so(engine: Engine) -> None:
    first = engine.run("""
        id: finished
        namespace: roost.tests
        tasks:
          - id: hi
            type: io.kestra.plugin.core.log.Log
            message: hi
    """)
    result = engine.run(f"""
        id: resume_finished
        namespace: roost.tests
        tasks:
          - id: wake
            type: io.kestra.plugin.core.execution.Resume
            executionId: {first.execution.id}
            namespace: roost.tests
            flowId: finished
    """)
    message = result.logs("wake")[0]
    assert f"execution {first.execution.id} (roost.tests.finished) is SUCCESS and not running" in message


def test_resume_of_an_unknown_execution_fails_with_kestras_words(engine: Engine) -> None:
    result = engine.run("""
        id: resume_unknown
        namespace: roost.tests
        tasks:
          - id: wake
            type: io.kestra.plugin.core.execution.Resume
            executionId: nosuchexecution
    """)
    assert result.state == "FAILED"
    assert result.logs("wake") == ["task 'wake': no execution found for execution id nosuchexecution"]


def test_resume_with_namespace_but_no_execution_id_is_refused_at_load_time(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="`namespace` and `flowId` should only be set when `executionId` is set."):
        engine.load("""
            id: bad_resume
            namespace: roost.tests
            tasks:
              - id: wake
                type: io.kestra.plugin.core.execution.Resume
                namespace: roost.tests
                flowId: waits
        """)


# --- Count -------------------------------------------------------------------------------------
HELLO = """
    id: {flow_id}
    namespace: {namespace}
    tasks:
      - id: hi
        type: io.kestra.plugin.core.log.Log
        message: hi
      - id: maybe_fail
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{{{ inputs.fail }}}}"
    inputs:
      - id: fail
        type: BOOLEAN
        defaults: false
"""


def test_count_counts_executions_per_flow_and_keeps_those_the_expression_accepts(engine: Engine) -> None:
    for _ in range(2):
        engine.run(HELLO.format(flow_id="busy", namespace="roost.counted"))
    engine.run(HELLO.format(flow_id="quiet", namespace="roost.counted"))
    result = engine.run("""
        id: counter
        namespace: roost.tests
        tasks:
          - id: all
            type: io.kestra.plugin.core.execution.Count
            expression: "{{ count >= 0 }}"
            flows:
              - namespace: roost.counted
                flowId: busy
              - namespace: roost.counted
                flowId: quiet
              - namespace: roost.counted
                flowId: never
          - id: busy_only
            type: io.kestra.core.tasks.executions.Counts
            expression: "{{ count >= 2 }}"
            startDate: "{{ now() | dateAdd(-1, 'HOURS') }}"
            flows:
              - namespace: roost.counted
                flowId: busy
              - namespace: roost.counted
                flowId: quiet
    """)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("all").outputs == {"results": [
        {"namespace": "roost.counted", "flowId": "busy", "count": 2},
        {"namespace": "roost.counted", "flowId": "quiet", "count": 1},
        {"namespace": "roost.counted", "flowId": "never", "count": 0},
    ], "total": 3}
    assert result.run_of("busy_only").outputs == {
        "results": [{"namespace": "roost.counted", "flowId": "busy", "count": 2}], "total": 2}


def test_count_filters_by_state_and_groups_whole_namespaces(engine: Engine) -> None:
    engine.run(HELLO.format(flow_id="one", namespace="roost.grouped"))
    failed = engine.run(HELLO.format(flow_id="two", namespace="roost.grouped"), {"fail": True})
    assert failed.state == "FAILED"
    result = engine.run("""
        id: counter_states
        namespace: roost.tests
        tasks:
          - id: failures
            type: io.kestra.plugin.core.execution.Count
            expression: "{{ count > 0 }}"
            states: [FAILED]
            namespaces: [roost.grouped]
          - id: everything
            type: io.kestra.plugin.core.execution.Count
            expression: "{{ count > 0 }}"
            namespaces: [roost.grouped]
    """)
    assert result.run_of("failures").outputs == {"results": [{"namespace": "roost.grouped", "count": 1}],
                                                 "total": 1}
    assert result.run_of("everything").outputs["total"] == 2


def test_count_without_flows_or_namespaces_is_refused_at_load_time(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="You must provide a list of flows or namespaces"):
        engine.load("""
            id: bad_count
            namespace: roost.tests
            tasks:
              - id: count
                type: io.kestra.plugin.core.execution.Count
                expression: "{{ count > 0 }}"
        """)


def test_count_with_a_date_that_is_not_iso_fails_naming_the_property(engine: Engine) -> None:
    result = engine.run("""
        id: bad_date
        namespace: roost.tests
        tasks:
          - id: count
            type: io.kestra.plugin.core.execution.Count
            expression: "{{ count > 0 }}"
            namespaces: [roost]
            startDate: yesterday
    """)
    assert result.state == "FAILED"
    assert result.logs("count") == ["property 'startDate': 'yesterday' is not an ISO-8601 date-time such as "
                                    "2024-01-31T10:00:00Z"]


# --- PurgeExecutions ---------------------------------------------------------------------------
def test_purge_executions_deletes_ended_executions_their_logs_and_files(engine: Engine) -> None:
    kept = engine.run(HELLO.format(flow_id="kept", namespace="roost.other"))
    gone = [engine.run("""
        id: producer
        namespace: roost.purged.sub
        tasks:
          - id: write
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            outputFiles: [out.txt]
            commands:
              - echo data > out.txt
    """) for _ in range(2)]
    storage_dir = engine.runtime.storage.path_of("kestra:///roost/purged/sub/producer")
    assert any(p.is_file() for p in storage_dir.rglob("*"))
    result = engine.run("""
        id: purger
        namespace: roost.tests
        tasks:
          - id: purge
            type: io.kestra.plugin.core.execution.PurgeExecutions
            namespace: roost.purged
            endDate: "{{ now() }}"
    """)
    assert result.state == "SUCCESS", result.logs()
    outputs = result.run_of("purge").outputs
    assert outputs["executionsCount"] == 2
    assert outputs["storagesCount"] == 2
    assert outputs["logsCount"] >= 2
    history = engine.runtime.history
    assert history is not None
    assert all(history.get_execution(r.execution.id) is None for r in gone)
    assert history.get_execution(kept.execution.id) is not None
    assert history.get_execution(result.execution.id) is not None
    assert not any(p.is_file() for p in storage_dir.rglob("*"))


def test_purge_executions_keeps_logs_when_asked_and_filters_states(engine: Engine) -> None:
    ok = engine.run(HELLO.format(flow_id="mixed", namespace="roost.states"))
    bad = engine.run(HELLO.format(flow_id="mixed", namespace="roost.states"), {"fail": True})
    result = engine.run("""
        id: purger_states
        namespace: roost.tests
        tasks:
          - id: purge
            type: io.kestra.core.tasks.storages.Purge
            namespace: roost.states
            flowId: mixed
            endDate: "{{ now() }}"
            states: [FAILED]
            purgeLog: false
    """)
    assert result.run_of("purge").outputs == {"executionsCount": 1, "logsCount": 0, "storagesCount": 0,
                                              "metricsCount": 0}
    history = engine.runtime.history
    assert history is not None
    assert history.get_execution(bad.execution.id) is None
    assert history.get_execution(ok.execution.id) is not None
    assert history.count_logs(bad.execution.id) > 0
